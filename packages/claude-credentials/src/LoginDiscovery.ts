/**
 * The one reader of "which Claude Code login is in use here", shared by
 * `tollgate doctor`, the usage daemon and anything else that needs the login
 * Claude Code would send, without any network call.
 *
 * Order, as Claude Code reads it: `CLAUDE_CODE_OAUTH_TOKEN` (non-blank), else
 * on macOS with the `security` tool the Keychain item when it holds a login,
 * else `.credentials.json` at the {@link StoreLocation} (from
 * `$CLAUDE_SECURESTORAGE_CONFIG_DIR`, `$CLAUDE_CONFIG_DIR` or `$HOME/.claude`).
 * The file is parsed by `Credential.parseDocument`, like every other reader
 * of the store, and every problem with it is named in words that never quote
 * it (the text holds tokens).
 *
 * @since 0.2.0
 */
import * as fs from "node:fs/promises"
import { Credential, Scopes } from "@tollgate/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as KeychainStore from "./KeychainStore.js"
import * as StoreLocation from "./StoreLocation.js"

/** The file name Claude Code stores its login in. @since 0.2.0 */
export const FILE_NAME = StoreLocation.FILE_NAME

/** What a login record says, minus the secrets: what doctor prints. @since 0.2.0 */
export interface Login {
  readonly scopes: Scopes.ScopeSet
  /** Epoch ms; `null` when absent, `null` in the record, or unknown. */
  readonly expiresAt: number | null
  /** Whether the source records an expiry at all; a setup-token's is unknown. */
  readonly expiryKnown: boolean
  /** {@link Credential.fingerprint} of the access token; `null` when it is empty. */
  readonly fingerprint: string | null
  readonly hasRefreshToken: boolean
  readonly subscriptionType: string | null
  readonly rateLimitTier: string | null
}

/**
 * A login was found. `path` and `mode` (permission bits) describe the file;
 * both are `null` for the environment, which Claude Code prefers to any
 * store, and for the Keychain, which has no path: `keychainService` names its
 * item instead (and is `null` otherwise).
 *
 * `accessToken` is what a caller sends (empty after Claude Code blanked a
 * refused login; `login.fingerprint` is then `null`); `snapshot` is what a
 * classifier or poller keeps of it.
 *
 * @since 0.2.0
 */
export interface Found {
  readonly _tag: "Found"
  readonly source: Extract<Credential.Source, "environment" | "keychain" | "file">
  readonly path: string | null
  readonly mode: number | null
  readonly keychainService: string | null
  readonly login: Login
  readonly accessToken: Redacted.Redacted<string>
  readonly snapshot: Credential.Snapshot
}

/**
 * Why no login was found: `missing` (no file), `unreadable` (cannot read it),
 * `not_json`, `no_login` (valid JSON without `claudeAiOauth`), `malformed`
 * (a `claudeAiOauth` Claude Code could not use either), `too_large` and
 * `too_deep` (a document tollgate refuses to read because it could not
 * write it back safely; see `Credential.parseDocument`).
 *
 * @since 0.2.0
 */
export type NotFoundReason = "missing" | "unreadable" | "not_json" | "no_login" | "malformed" | "too_large" | "too_deep"

/** No usable login; `path` is the file looked at, `detail` one plain sentence without any secret. @since 0.2.0 */
export interface NotFound {
  readonly _tag: "NotFound"
  readonly path: string
  readonly mode: number | null
  readonly reason: NotFoundReason
  readonly detail: string
}

/** The outcome of {@link discover}. @since 0.2.0 */
export type Discovery = Found | NotFound

/** Which platform's rules apply and where the `security` tool is; both for tests. @since 0.2.0 */
export type Options = KeychainStore.PlatformOptions

const environmentToken = Config.option(Config.redacted("CLAUDE_CODE_OAUTH_TOKEN")).pipe(
  Config.map(Option.filter((token) => Redacted.value(token).trim() !== ""))
)

const fromEnvironment = (value: string): Found => {
  const token = value.trim()
  const snapshot: Credential.Snapshot = {
    scopes: Scopes.known(Scopes.setupToken),
    expiresAt: null,
    fingerprint: Credential.fingerprint(token)
  }
  return {
    _tag: "Found",
    source: "environment",
    path: null,
    mode: null,
    keychainService: null,
    accessToken: Redacted.make(token),
    snapshot,
    login: {
      scopes: snapshot.scopes,
      expiresAt: null,
      expiryKnown: false,
      fingerprint: snapshot.fingerprint,
      hasRefreshToken: false,
      subscriptionType: null,
      rateLimitTier: null
    }
  }
}

const fromRecord = (
  record: Credential.OAuthRecord,
  where: Pick<Found, "source" | "path" | "mode" | "keychainService">
): Found => {
  const snapshot = Credential.snapshot(record)
  return {
    _tag: "Found",
    ...where,
    accessToken: Redacted.make(record.accessToken),
    snapshot,
    login: {
      scopes: snapshot.scopes,
      expiresAt: snapshot.expiresAt,
      expiryKnown: true,
      fingerprint: snapshot.fingerprint,
      hasRefreshToken: typeof record.refreshToken === "string" && record.refreshToken !== "",
      subscriptionType: record.subscriptionType ?? null,
      rateLimitTier: record.rateLimitTier ?? null
    }
  }
}

const notFoundOf = (error: Credential.DocumentError): Pick<NotFound, "reason" | "detail"> => {
  switch (error.reason) {
    case "not_json":
      return { reason: "not_json", detail: "the file is not valid JSON" }
    case "not_an_object":
      return { reason: "malformed", detail: "the file does not hold a JSON object" }
    case "malformed_login":
      return {
        reason: "malformed",
        detail: `the Claude login in the file is malformed${error.at === undefined ? "" : ` (at ${error.at})`}`
      }
    case "too_large":
      return {
        reason: "too_large",
        detail: `the file is larger than ${Credential.MAX_DOCUMENT_BYTES / 1024 / 1024} MiB; no Claude Code login is, and tollgate does not read it`
      }
    case "too_deep":
      return {
        reason: "too_deep",
        detail: `the file nests deeper than ${Credential.MAX_DOCUMENT_DEPTH} levels; tollgate does not read it, as it could not write it back safely`
      }
  }
}

/**
 * Reads the document with `Credential.parseDocument`, the reader refresh and
 * the opencode plugin use too, so that doctor never calls a file fine that
 * they refuse (a byte order mark once was). Wording never quotes the file:
 * parser messages echo the text, and the text holds tokens.
 */
const interpret = (text: string): Either.Either<Credential.OAuthRecord, Pick<NotFound, "reason" | "detail">> => {
  const parsed = Credential.parseDocument(text)
  if (Either.isLeft(parsed)) return Either.left(notFoundOf(parsed.left))
  const document = parsed.right
  const record = document.claudeAiOauth
  if (record === undefined) {
    const keys = Object.keys(document)
    const listed = keys.length > 5 ? [...keys.slice(0, 5), "…"] : keys
    return Either.left({
      reason: "no_login",
      detail:
        keys.length === 0
          ? "the file holds no Claude login (it is an empty object)"
          : `the file holds no Claude login (no claudeAiOauth; it has ${listed.join(", ")})`
    })
  }
  return Either.right(record)
}

// The error's kind, named as @effect/platform names it (doctor printed those words before this
// module moved here): it is enough to act on and, unlike the OS message, reads the same everywhere.
const reasonOf = (error: unknown): string => {
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case "ENOENT":
      return "NotFound"
    case "EACCES":
    case "EPERM":
      return "PermissionDenied"
    case "EEXIST":
      return "AlreadyExists"
    case "EISDIR":
    case "ENOTDIR":
    case "ELOOP":
      return "BadResource"
    case "EBUSY":
      return "Busy"
    default:
      return "Unknown"
  }
}

/**
 * The Keychain's login, if this platform has a Keychain and it holds one. This is
 * `Stores.resolve`'s rule (the Keychain when it holds a login, else the file), applied
 * without reading the file first: a broken file must not hide a good Keychain login.
 * A Keychain that cannot be read counts as holding none, as it does for Claude Code.
 */
const fromKeychain = (location: StoreLocation.Location, options: Options) =>
  Effect.gen(function* () {
    const keychain = yield* KeychainStore.onThisMachine(location, options)
    if (keychain === null) return Option.none<Found>()
    const document = yield* keychain.read.pipe(Effect.orElseSucceed(() => Option.none<Credential.Document>()))
    return Option.flatMap(document, (held) =>
      held.claudeAiOauth === undefined
        ? Option.none()
        : Option.some(
            fromRecord(held.claudeAiOauth, {
              source: "keychain",
              path: null,
              mode: null,
              keychainService: location.keychainService
            })
          )
    )
  })

const fromFile = (path: string): Effect.Effect<Discovery> =>
  Effect.gen(function* () {
    const notFound = (reason: NotFoundReason, detail: string, mode: number | null = null): NotFound => ({
      _tag: "NotFound",
      path,
      mode,
      reason,
      detail
    })
    const info = yield* Effect.either(Effect.tryPromise({ try: () => fs.stat(path), catch: reasonOf }))
    if (Either.isLeft(info)) {
      return info.left === "NotFound"
        ? notFound("missing", "the file does not exist")
        : notFound("unreadable", `the file cannot be inspected (${info.left})`)
    }
    const mode = info.right.mode & 0o777
    if (!info.right.isFile()) return notFound("unreadable", "the path is not a regular file", mode)
    // Not even read: parseDocument would refuse it, and it could be any size.
    if (info.right.size > Credential.MAX_DOCUMENT_BYTES) {
      return notFound("too_large", notFoundOf(new Credential.DocumentError({ reason: "too_large" })).detail, mode)
    }
    const text = yield* Effect.either(Effect.tryPromise({ try: () => fs.readFile(path, "utf8"), catch: reasonOf }))
    if (Either.isLeft(text)) return notFound("unreadable", `the file cannot be read (${text.left})`, mode)
    return Either.match(interpret(text.right), {
      onLeft: ({ detail, reason }): Discovery => notFound(reason, detail, mode),
      onRight: (record): Discovery => fromRecord(record, { source: "file", path, mode, keychainService: null })
    })
  })

/**
 * Finds the login Claude Code would use, under `options`' platform rules.
 * Every problem with the file is a {@link NotFound}; only a broken
 * `ConfigProvider` (no `HOME`) fails the effect.
 *
 * @since 0.2.0
 */
export const discoverWith = (options: Options = {}): Effect.Effect<Discovery, ConfigError.ConfigError> =>
  Effect.gen(function* () {
    const token = yield* environmentToken
    if (Option.isSome(token)) return fromEnvironment(Redacted.value(token.value))
    const location = yield* StoreLocation.fromConfig
    const keychain = yield* fromKeychain(location, options)
    if (Option.isSome(keychain)) return keychain.value
    return yield* fromFile(location.file)
  })

/** {@link discoverWith} under this machine's rules. @since 0.2.0 */
export const discover: Effect.Effect<Discovery, ConfigError.ConfigError> = discoverWith()
