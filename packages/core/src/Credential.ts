/**
 * Claude Code's stored OAuth login (`claudeAiOauth` in `.credentials.json`)
 * and the facts derived from it: expiry, scopes, fingerprint.
 *
 * The schemas keep every field they do not name, because Claude Code adds
 * fields in every release and a writer that drops one logs the user out or
 * downgrades them to API-key mode.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { fingerprint as fingerprintOf } from "./internal/fingerprint.js"
import * as Scopes from "./Scopes.js"

const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * The `claudeAiOauth` record. `expiresAt` is epoch milliseconds; `null` never
 * expires. Unknown fields survive a decode/encode round trip.
 *
 * @since 0.1.0
 */
export const OAuthRecord = Schema.Struct(
  {
    accessToken: Schema.String,
    refreshToken: Schema.optional(Schema.NullOr(Schema.String)),
    expiresAt: Schema.optional(Schema.NullOr(Schema.Number)),
    scopes: Schema.optional(Schema.Array(Schema.String)),
    subscriptionType: Schema.optional(Schema.NullOr(Schema.String)),
    rateLimitTier: Schema.optional(Schema.NullOr(Schema.String))
  },
  Rest
)

/** @since 0.1.0 */
export type OAuthRecord = typeof OAuthRecord.Type

/**
 * The whole credentials document. Only `claudeAiOauth` is ours to read; every
 * other top-level key (`mcpOAuth`, `pluginSecrets`, …) is kept as it is.
 *
 * @since 0.1.0
 */
export const Document = Schema.Struct({ claudeAiOauth: Schema.optional(OAuthRecord) }, Rest)

/** @since 0.1.0 */
export type Document = typeof Document.Type

/**
 * Why a credentials document could not be read. The message never quotes the
 * file: a parser's error text would show its first bytes, which may be a token.
 *
 * @since 0.1.0
 */
export class DocumentError extends Schema.TaggedError<DocumentError>("@tollgate/core/Credential/DocumentError")(
  "DocumentError",
  { reason: Schema.Literal("not_json", "not_an_object", "malformed_login") }
) {
  override get message(): string {
    return {
      not_json: "The credentials file is not valid JSON.",
      not_an_object: "The credentials file does not hold a JSON object.",
      malformed_login: "The credentials file's claudeAiOauth record is malformed (no access token, or fields of the wrong type)."
    }[this.reason]
  }
}

const decodeDocument = Schema.decodeUnknownEither(Document)

/**
 * Parses a credentials document, keeping every key; fails with a
 * {@link DocumentError} that is safe to print.
 *
 * @since 0.1.0
 */
export const parseDocument = (text: string): Either.Either<Document, DocumentError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(new DocumentError({ reason: "not_json" }))
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return Either.left(new DocumentError({ reason: "not_an_object" }))
  }
  return Either.mapLeft(decodeDocument(json), () => new DocumentError({ reason: "malformed_login" }))
}

/**
 * Whether Claude Code treats this record as a subscription login: it needs
 * `user:inference` in `scopes` (observed with 2.1.330: without it,
 * `claude auth status` says `loggedIn: false`).
 *
 * @since 0.1.0
 */
export const isClaudeCodeLogin = (record: OAuthRecord): boolean =>
  record.accessToken.length > 0 && Array.isArray(record.scopes) && record.scopes.includes("user:inference")

/**
 * Claude Code treats a token as expired five minutes early.
 *
 * @since 0.1.0
 */
export const CLAUDE_CODE_EXPIRY_SKEW_MS = 5 * 60 * 1000

/**
 * Whether a token with this `expiresAt` counts as expired at `now`, with
 * Claude Code's skew by default. `null`/absent never expires.
 *
 * @since 0.1.0
 */
export const isExpired = (
  expiresAt: number | null | undefined,
  now: number,
  skewMs: number = CLAUDE_CODE_EXPIRY_SKEW_MS
): boolean => typeof expiresAt === "number" && Number.isFinite(expiresAt) && now + skewMs >= expiresAt

/**
 * What a classifier or poller needs to know about the credential a request was
 * sent with — never the token itself.
 *
 * @since 0.1.0
 */
export interface Snapshot {
  readonly scopes: Scopes.ScopeSet
  /** Epoch ms, `null` when it never expires or is unknown. */
  readonly expiresAt: number | null
  /** A fingerprint of the access token, see {@link fingerprint}. */
  readonly fingerprint: string | null
}

/**
 * A short, stable, non-reversible name for a token, safe to log and to key
 * state by. Two different tokens get different fingerprints in practice; the
 * token cannot be recovered from it.
 *
 * @since 0.1.0
 */
export const fingerprint = (token: string): string => fingerprintOf(token)

/** The snapshot of a stored record. @since 0.1.0 */
export const snapshot = (record: OAuthRecord): Snapshot => ({
  scopes: Scopes.fromStored(record.scopes),
  expiresAt: typeof record.expiresAt === "number" ? record.expiresAt : null,
  fingerprint: record.accessToken.length > 0 ? fingerprint(record.accessToken) : null
})

/**
 * Where a credential came from, for reports.
 *
 * @since 0.1.0
 */
export type Source = "file" | "keychain" | "environment" | "opencode"
