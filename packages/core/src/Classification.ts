/**
 * The verdict on one upstream response: what happened, which endpoint it came
 * from, and what to do about it. Every verdict is a `Schema.TaggedError`, so a
 * failure can be yielded, recovered with `catchTag`, and serialised.
 *
 * `message` is one sentence a person understands. It is built from our own
 * words and never includes a token.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Endpoint } from "./Endpoint.js"

/**
 * What the caller should do next.
 *
 * - `none`: it worked.
 * - `refresh`: refresh the access token, then retry.
 * - `reauthenticate`: the login is dead; the user must log in again.
 * - `wait`: wait until `retryAfterMs`/`resetsAt`, then retry.
 * - `backoff`: transient; retry later with exponential backoff.
 * - `switch_account`: this account cannot serve the request; use another.
 * - `fix_client`: the request or client is wrong; retrying as-is cannot help.
 * - `skip_endpoint`: this token can never use this endpoint; stop calling it.
 *
 * @since 0.1.0
 */
export const Action = Schema.Literal(
  "none",
  "refresh",
  "reauthenticate",
  "wait",
  "backoff",
  "switch_account",
  "fix_client",
  "skip_endpoint"
)

/** What the caller should do about a verdict. @since 0.1.0 */
export type Action = typeof Action.Type

/** The OAuth `error` codes of a refused refresh. @since 0.1.0 */
export const RefreshErrorCode = Schema.Literal(
  "invalid_grant",
  "invalid_scope",
  "invalid_client",
  "unauthorized_client",
  "account_on_hold",
  "other"
)

/** The OAuth `error` code of a refused refresh; `other` for codes not listed. @since 0.1.0 */
export type RefreshErrorCode = typeof RefreshErrorCode.Type

/** Throttle (short, per-minute) versus subscription cap (wait for the window reset). @since 0.1.0 */
export const LimitKind = Schema.Literal("throttle", "subscription_cap")

/** Whether a 429 is a short throttle or a subscription cap to wait out. @since 0.1.0 */
export type LimitKind = typeof LimitKind.Type

/** How a request failed before any response arrived. @since 0.1.0 */
export const TransportReason = Schema.Literal("connect", "reset", "timeout", "aborted", "other")

/** Why a request got no response: connect, reset, timeout, aborted or other. @since 0.1.0 */
export type TransportReason = typeof TransportReason.Type

const common = {
  endpoint: Endpoint,
  /** HTTP status, `null` when no response arrived or no call was made. */
  status: Schema.NullOr(Schema.Int),
  action: Action,
  /** Whether repeating the same request can ever succeed (after the action). */
  retryable: Schema.Boolean,
  /** Integer milliseconds the response asked us to wait, `null` when none usable. */
  retryAfterMs: Schema.NullOr(Schema.NonNegativeInt),
  /** The upstream `request_id`, when the body carried one. */
  requestId: Schema.NullOr(Schema.String)
}

const where = (endpoint: Endpoint): string =>
  ({
    token: "the token endpoint",
    usage: "the usage endpoint",
    profile: "the profile endpoint",
    messages: "the messages endpoint"
  })[endpoint]

// Never throws: a reset time beyond what Date can show is still a time.
const clock = (epochMs: number): string => {
  const date = new Date(epochMs)
  return Number.isNaN(date.getTime()) ? `epoch ${epochMs} ms` : date.toISOString().replace(/\.\d{3}Z$/, "Z")
}

const waitWords = (retryAfterMs: number | null, resetsAt: number | null): string =>
  resetsAt !== null
    ? ` until ${clock(resetsAt)}`
    : retryAfterMs !== null
      ? ` for ${Math.ceil(retryAfterMs / 1000)} s`
      : ""

/** The call succeeded. @since 0.1.0 */
export class Ok extends Schema.TaggedError<Ok>("@tollgate/core/Classification/Ok")("Ok", common) {
  override get message(): string {
    return `${where(this.endpoint)} answered successfully.`
  }
}

/** The token lacks a scope this endpoint needs; this token will never succeed here. @since 0.1.0 */
export class MissingScope extends Schema.TaggedError<MissingScope>("@tollgate/core/Classification/MissingScope")(
  "MissingScope",
  { ...common, scope: Schema.String }
) {
  override get message(): string {
    return `The token lacks the ${this.scope} scope that ${where(this.endpoint)} requires; log in again with a full Claude login (a setup-token cannot get it).`
  }
}

/** The access token has expired, per the server or per its `expiresAt`. @since 0.1.0 */
export class TokenExpired extends Schema.TaggedError<TokenExpired>("@tollgate/core/Classification/TokenExpired")(
  "TokenExpired",
  { ...common, reason: Schema.Literal("server", "stale") }
) {
  override get message(): string {
    return this.reason === "stale"
      ? `The access token expired by its expiresAt, so ${where(this.endpoint)}'s answer cannot be trusted; refresh the login.`
      : `The access token has expired; refresh it and retry.`
  }
}

/** The server does not accept the token at all. @since 0.1.0 */
export class TokenInvalid extends Schema.TaggedError<TokenInvalid>("@tollgate/core/Classification/TokenInvalid")(
  "TokenInvalid",
  common
) {
  override get message(): string {
    return `${capitalise(where(this.endpoint))} rejected the access token as invalid; refresh once, and log in again if that fails.`
  }
}

/** The token was revoked; only a new login helps. @since 0.1.0 */
export class TokenRevoked extends Schema.TaggedError<TokenRevoked>("@tollgate/core/Classification/TokenRevoked")(
  "TokenRevoked",
  common
) {
  override get message(): string {
    return "The OAuth token has been revoked; log in again."
  }
}

/** The organisation does not allow OAuth logins. Refreshing or retrying cannot help. @since 0.1.0 */
export class OrgPolicyDenied extends Schema.TaggedError<OrgPolicyDenied>(
  "@tollgate/core/Classification/OrgPolicyDenied"
)("OrgPolicyDenied", common) {
  override get message(): string {
    return `This organization does not allow OAuth logins (${where(this.endpoint)}); switch to another account or use an API key.`
  }
}

/** The token endpoint refused a refresh or code exchange. @since 0.1.0 */
export class RefreshRejected extends Schema.TaggedError<RefreshRejected>(
  "@tollgate/core/Classification/RefreshRejected"
)("RefreshRejected", { ...common, reason: RefreshErrorCode }) {
  override get message(): string {
    switch (this.reason) {
      case "invalid_grant":
        return "The refresh token is no longer valid (expired, or rotated by another process); re-read the stored login, and log in again if it is unchanged."
      case "invalid_scope":
        return "The token endpoint refused the requested scopes; log in again."
      case "invalid_client":
      case "unauthorized_client":
        return `The token endpoint refused this OAuth client (${this.reason}); check the client id.`
      case "account_on_hold":
        return "Anthropic has put this account on hold; use another account until it is resolved."
      case "other":
        return "The token endpoint refused the refresh; log in again."
    }
  }
}

/** A rate limit: a short throttle, or the subscription's usage cap. @since 0.1.0 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@tollgate/core/Classification/RateLimited")(
  "RateLimited",
  {
    ...common,
    limitKind: LimitKind,
    /** Epoch ms when the limit resets, when known. */
    resetsAt: Schema.NullOr(Schema.Int),
    /** The unified representative claim (`five_hour`, `seven_day`, …) when sent. */
    claim: Schema.NullOr(Schema.String)
  }
) {
  override get message(): string {
    if (this.endpoint === "token") {
      return `The token endpoint is throttling refreshes; wait${waitWords(this.retryAfterMs, this.resetsAt)} before refreshing again.`
    }
    return this.limitKind === "subscription_cap"
      ? `The subscription's ${this.claim ?? "usage"} limit is reached; it resets${this.resetsAt === null ? " later" : ` at ${clock(this.resetsAt)}`}.`
      : `${capitalise(where(this.endpoint))} is throttling requests; wait${waitWords(this.retryAfterMs, this.resetsAt)} before trying again.`
  }
}

/** The request needs extra usage (paid overage) that the account does not have. @since 0.1.0 */
export class ExtraUsageRequired extends Schema.TaggedError<ExtraUsageRequired>(
  "@tollgate/core/Classification/ExtraUsageRequired"
)("ExtraUsageRequired", common) {
  override get message(): string {
    return "This request needs extra usage, which this account has not enabled or has used up; switch account or enable extra usage."
  }
}

/** Anthropic refuses this client for this token. @since 0.1.0 */
export class ClientRejected extends Schema.TaggedError<ClientRejected>("@tollgate/core/Classification/ClientRejected")(
  "ClientRejected",
  { ...common, reason: Schema.Literal("claude_code_only", "version_too_old") }
) {
  override get message(): string {
    return this.reason === "version_too_old"
      ? "Anthropic rejects this client version for the requested model; upgrade the client."
      : "Anthropic only accepts this subscription token from Claude Code itself; use an API key for this client."
  }
}

/** Cloudflare blocked the request before it reached Anthropic. @since 0.1.0 */
export class EdgeBlocked extends Schema.TaggedError<EdgeBlocked>("@tollgate/core/Classification/EdgeBlocked")(
  "EdgeBlocked",
  { ...common, reason: Schema.Literal("cloudflare_1010", "challenge") }
) {
  override get message(): string {
    return this.reason === "cloudflare_1010"
      ? `Cloudflare blocked the request to ${where(this.endpoint)} (error 1010: missing or banned User-Agent); check the configured User-Agent.`
      : `Cloudflare answered ${where(this.endpoint)} with a browser challenge; this network or User-Agent is blocked.`
  }
}

/** Anthropic is over capacity; not the user's quota. @since 0.1.0 */
export class Overloaded extends Schema.TaggedError<Overloaded>("@tollgate/core/Classification/Overloaded")(
  "Overloaded",
  common
) {
  override get message(): string {
    return "Anthropic is overloaded (not your quota); retry with backoff."
  }
}

/** Any other 5xx. @since 0.1.0 */
export class ServerError extends Schema.TaggedError<ServerError>("@tollgate/core/Classification/ServerError")(
  "ServerError",
  common
) {
  override get message(): string {
    return `${capitalise(where(this.endpoint))} failed with a server error (${this.status ?? "?"}); retry with backoff.`
  }
}

/** 404: usually a wrong base URL. @since 0.1.0 */
export class NotFound extends Schema.TaggedError<NotFound>("@tollgate/core/Classification/NotFound")(
  "NotFound",
  common
) {
  override get message(): string {
    return `${capitalise(where(this.endpoint))} was not found (404); check the configured base URL.`
  }
}

/** Any other 4xx. @since 0.1.0 */
export class BadRequest extends Schema.TaggedError<BadRequest>("@tollgate/core/Classification/BadRequest")(
  "BadRequest",
  {
    ...common,
    errorType: Schema.NullOr(Schema.String),
    /**
     * What the upstream said about the request (`error.message`), at most 300
     * characters, anything shaped like a credential replaced by `[redacted]`:
     * the client needs it to fix the request (e.g. "prompt is too long: …",
     * which is how opencode recognises a context overflow). Absent in state
     * encoded before 0.2.0.
     *
     * @since 0.2.0
     */
    detail: Schema.optional(Schema.NullOr(Schema.String))
  }
) {
  override get message(): string {
    const said = this.detail ? `: ${this.detail}` : ""
    return `${capitalise(where(this.endpoint))} refused the request (${this.status ?? "?"}${this.errorType ? ` ${this.errorType}` : ""}${said}); retrying it unchanged cannot help.`
  }
}

/** No response: connection refused or reset, timeout, abort. @since 0.1.0 */
export class Transport extends Schema.TaggedError<Transport>("@tollgate/core/Classification/Transport")("Transport", {
  ...common,
  reason: TransportReason
}) {
  override get message(): string {
    const what = {
      connect: "could not be reached",
      reset: "closed the connection",
      timeout: "did not answer in time",
      aborted: "request was aborted",
      other: "request failed before a response"
    }[this.reason]
    return `${capitalise(where(this.endpoint))} ${what}; retry with backoff.`
  }
}

/** A 2xx whose body could not be read. @since 0.1.0 */
export class Decode extends Schema.TaggedError<Decode>("@tollgate/core/Classification/Decode")("Decode", common) {
  override get message(): string {
    return `${capitalise(where(this.endpoint))} answered ${this.status ?? "2xx"} with a body that could not be read; retry later.`
  }
}

/**
 * Every verdict.
 *
 * @since 0.1.0
 */
export const Classification = Schema.Union(
  Ok,
  MissingScope,
  TokenExpired,
  TokenInvalid,
  TokenRevoked,
  OrgPolicyDenied,
  RefreshRejected,
  RateLimited,
  ExtraUsageRequired,
  ClientRejected,
  EdgeBlocked,
  Overloaded,
  ServerError,
  NotFound,
  BadRequest,
  Transport,
  Decode
)

/** Any verdict, `Ok` included: what the classifier returns for one response. @since 0.1.0 */
export type Classification = typeof Classification.Type

/** Every verdict but `Ok`: what an upstream call can fail with. @since 0.1.0 */
export type Failure = Exclude<Classification, Ok>

/**
 * A verdict's name, e.g. `RateLimited`; what backoff state and reports keep
 * instead of the whole verdict.
 *
 * @since 0.1.0
 */
export type Tag = Classification["_tag"]

/** Whether a value is a verdict. @since 0.1.0 */
export const isClassification = Schema.is(Classification)

/**
 * A flat, JSON-ready view: `tag`, `endpoint`, `action`, `retryable`,
 * `retryAfterMs`, `message`, plus `scope`, `limitKind`, `resetsAt`, `reason`
 * where they apply.
 *
 * @since 0.1.0
 */
export const toJson = (c: Classification): Record<string, unknown> => {
  const { _tag, ...fields } = Schema.encodeSync(Classification)(c) as { _tag: string } & Record<string, unknown>
  return { tag: _tag, ...fields, message: c.message }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
