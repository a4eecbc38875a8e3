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
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { fingerprint as fingerprintOf } from "./internal/fingerprint.js"
import * as JsonText from "./JsonText.js"
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

/** The decoded `claudeAiOauth` record, unknown fields included. @since 0.1.0 */
export type OAuthRecord = typeof OAuthRecord.Type

/**
 * The whole credentials document. Only `claudeAiOauth` is ours to read; every
 * other top-level key (`mcpOAuth`, `pluginSecrets`, …) is kept as it is.
 *
 * @since 0.1.0
 */
export const Document = Schema.Struct({ claudeAiOauth: Schema.optional(OAuthRecord) }, Rest)

/** The decoded credentials document; write it back whole so keys we do not read survive. @since 0.1.0 */
export type Document = typeof Document.Type

/**
 * The largest credentials document read, in UTF-8 bytes. Claude Code's is a
 * few KB; a bigger one is not a login, and reading it back and writing it
 * whole on every refresh would cost more than it is worth.
 *
 * @since 0.1.0
 */
export const MAX_DOCUMENT_BYTES = 1024 * 1024

/**
 * The deepest nesting a credentials document may have. Claude Code's is 4
 * levels; a writer has to serialize the whole document back, and
 * serializing thousands of levels overflows the stack — after the refresh
 * token was already spent.
 *
 * @since 0.1.0
 */
export const MAX_DOCUMENT_DEPTH = JsonText.MAX_DEPTH

/**
 * Why a credentials document could not be read: `not_json`,
 * `not_an_object`, `malformed_login` (a `claudeAiOauth` record with fields
 * of the wrong type; `at` names the first, e.g. `claudeAiOauth.scopes`),
 * and the documents refused because they could not be written back safely,
 * `too_large` (over {@link MAX_DOCUMENT_BYTES}) and `too_deep` (over
 * {@link MAX_DOCUMENT_DEPTH} levels). The message never quotes the file: a
 * parser's error text would show its first bytes, which may be a token.
 *
 * @since 0.1.0
 */
export class DocumentError extends Schema.TaggedError<DocumentError>("@tollgate/core/Credential/DocumentError")(
  "DocumentError",
  {
    reason: Schema.Literal("not_json", "not_an_object", "malformed_login", "too_large", "too_deep"),
    /** The key path of a `malformed_login` (key names and indices only, never a value). */
    at: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    return {
      not_json: "The credentials file is not valid JSON.",
      not_an_object: "The credentials file does not hold a JSON object.",
      malformed_login: `The credentials file's claudeAiOauth record is malformed (${
        this.at === undefined ? "no access token, or fields of the wrong type" : `at ${this.at}`
      }).`,
      too_large: `The credentials file is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB, which is not a Claude Code login; it is not read, so that it is never written back.`,
      too_deep: `The credentials file nests deeper than ${MAX_DOCUMENT_DEPTH} levels; it is not read, because it could not be written back safely.`
    }[this.reason]
  }
}

const decodeDocument = Schema.decodeUnknownEither(Document, { errors: "first" })

// Key names and indices of the first issue: the schema only fails on fields it names.
const pathOf = (error: ParseResult.ParseError): string | undefined => {
  const path = ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.path ?? []
  return path.length === 0 ? undefined : path.map(String).join(".")
}

/**
 * Parses a credentials document, keeping every key; fails with a
 * {@link DocumentError} that is safe to print. This is the one reader of
 * Claude Code's store — the refresh, the daemon, the opencode plugin and
 * `tollgate doctor` all read through it, so they agree on every file. A
 * leading UTF-8 byte order mark is accepted (and not written back).
 *
 * @since 0.1.0
 */
export const parseDocument = (text: string): Either.Either<Document, DocumentError> => {
  if (JsonText.utf8Length(text, MAX_DOCUMENT_BYTES) > MAX_DOCUMENT_BYTES) {
    return Either.left(new DocumentError({ reason: "too_large" }))
  }
  const body = JsonText.stripBom(text)
  // Before parsing: what a deep value would overflow comes later (serializing it back, formatting an issue).
  if (JsonText.depthExceededAt(body, MAX_DOCUMENT_DEPTH) >= 0) {
    return Either.left(new DocumentError({ reason: "too_deep" }))
  }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return Either.left(new DocumentError({ reason: "not_json" }))
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return Either.left(new DocumentError({ reason: "not_an_object" }))
  }
  return Either.mapLeft(decodeDocument(json), (error) => {
    const at = pathOf(error)
    return new DocumentError({ reason: "malformed_login", ...(at !== undefined ? { at } : {}) })
  })
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
