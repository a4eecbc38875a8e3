/**
 * Finds the local Claude Code login the way Claude Code does, without any
 * network call, and reduces it to facts that are safe to print: never a
 * token, at most its fingerprint.
 *
 * Order (reference, section 3): `CLAUDE_CODE_OAUTH_TOKEN`, else the store
 * Claude Code reads as `Stores.detect` picks it for refresh and the daemon
 * too: on macOS the Keychain item when it holds a login, else
 * `.credentials.json` in `$CLAUDE_SECURESTORAGE_CONFIG_DIR`, else
 * `$CLAUDE_CONFIG_DIR`, else `$HOME/.claude` (`StoreLocation`). The file is
 * parsed by `Credential.parseDocument`, like every other reader of the store,
 * and every problem with it is named.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import { StoreLocation, Stores } from "@tollgate/claude-credentials"
import { Credential, Scopes } from "@tollgate/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/** The file name Claude Code stores its login in. */
export const FILE_NAME = StoreLocation.FILE_NAME

/** What a login record says, minus the secrets. */
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
 * store, and for the Keychain, whose item `keychainService` names.
 */
export interface Found {
  readonly _tag: "Found"
  readonly source: Extract<Credential.Source, "environment" | "keychain" | "file">
  readonly path: string | null
  readonly mode: number | null
  /** The Keychain item's service when the login is in the Keychain, else `null`. */
  readonly keychainService: string | null
  readonly login: Login
}

/**
 * Why no login was found: `missing` (no file), `unreadable` (cannot read it),
 * `not_json`, `no_login` (valid JSON without `claudeAiOauth`), `malformed`
 * (a `claudeAiOauth` Claude Code could not use either), `too_large` and
 * `too_deep` (a document tollgate refuses to read because it could not
 * write it back safely; see `Credential.parseDocument`).
 */
export type NotFoundReason = "missing" | "unreadable" | "not_json" | "no_login" | "malformed" | "too_large" | "too_deep"

/** No usable login; `detail` is one plain sentence without any secret. */
export interface NotFound {
  readonly _tag: "NotFound"
  readonly path: string
  readonly mode: number | null
  readonly reason: NotFoundReason
  readonly detail: string
}

/** The outcome of {@link discover}. */
export type Discovery = Found | NotFound

const environmentToken = Config.option(Config.redacted("CLAUDE_CODE_OAUTH_TOKEN")).pipe(
  Config.map(Option.filter((token) => Redacted.value(token).trim() !== ""))
)

const fromEnvironment = (token: Redacted.Redacted<string>): Found => ({
  _tag: "Found",
  source: "environment",
  path: null,
  mode: null,
  keychainService: null,
  login: {
    scopes: Scopes.known(Scopes.setupToken),
    expiresAt: null,
    expiryKnown: false,
    fingerprint: Credential.fingerprint(Redacted.value(token)),
    hasRefreshToken: false,
    subscriptionType: null,
    rateLimitTier: null
  }
})

const fromRecord = (record: Credential.OAuthRecord): Login => {
  const snapshot = Credential.snapshot(record)
  return {
    scopes: snapshot.scopes,
    expiresAt: snapshot.expiresAt,
    expiryKnown: true,
    fingerprint: snapshot.fingerprint,
    hasRefreshToken: typeof record.refreshToken === "string" && record.refreshToken !== "",
    subscriptionType: record.subscriptionType ?? null,
    rateLimitTier: record.rateLimitTier ?? null
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
 * Reads the document with `Credential.parseDocument`, the reader the refresh,
 * the daemon and the opencode plugin use, so that doctor never calls a file
 * fine that they refuse (a byte order mark once was). Wording never quotes
 * the file: parser messages echo the text, and the text holds tokens.
 */
const interpret = (text: string): Either.Either<Login, Pick<NotFound, "reason" | "detail">> => {
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
  return Either.right(fromRecord(record))
}

// The error's kind (NotFound, PermissionDenied, …) is enough to act on, and
// unlike the OS message it reads the same on every platform.
const reasonOf = (error: PlatformError): string => (error._tag === "SystemError" ? error.reason : error._tag)

/**
 * Finds the login Claude Code would use; `options` say which platform's rules
 * apply and where the `security` tool is (tests). Every problem with the file
 * is a {@link NotFound}; only a broken `ConfigProvider` fails the effect. A
 * Keychain that cannot be read counts as holding no login, as it does for
 * Claude Code: the file is then what is reported.
 */
export const discoverWith = (
  options: Stores.DetectOptions = {}
): Effect.Effect<Discovery, ConfigError.ConfigError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const token = yield* environmentToken
    if (Option.isSome(token)) return fromEnvironment(token.value)
    const location = yield* StoreLocation.fromConfig
    const detected = yield* Effect.option(Stores.detect(location, options))
    if (Option.isSome(detected) && detected.value.chosen === "keychain") {
      const document = yield* Effect.option(detected.value.store.read)
      const held = Option.flatten(document)
      const record = Option.isSome(held) ? held.value.claudeAiOauth : undefined
      if (record !== undefined) {
        const found: Found = {
          _tag: "Found",
          source: "keychain",
          path: null,
          mode: null,
          keychainService: location.keychainService,
          login: fromRecord(record)
        }
        return found
      }
    }
    const path = location.file

    const fs = yield* FileSystem.FileSystem
    const notFound = (reason: NotFoundReason, detail: string, mode: number | null = null): NotFound => ({
      _tag: "NotFound",
      path,
      mode,
      reason,
      detail
    })
    const info = yield* Effect.either(fs.stat(path))
    if (Either.isLeft(info)) {
      return reasonOf(info.left) === "NotFound"
        ? notFound("missing", "the file does not exist")
        : notFound("unreadable", `the file cannot be inspected (${reasonOf(info.left)})`)
    }
    const mode = info.right.mode & 0o777
    if (info.right.type !== "File") return notFound("unreadable", "the path is not a regular file", mode)
    // Not even read: parseDocument would refuse it, and it could be any size.
    if (Number(info.right.size) > Credential.MAX_DOCUMENT_BYTES) {
      return notFound("too_large", notFoundOf(new Credential.DocumentError({ reason: "too_large" })).detail, mode)
    }
    const text = yield* Effect.either(fs.readFileString(path))
    if (Either.isLeft(text)) return notFound("unreadable", `the file cannot be read (${reasonOf(text.left)})`, mode)
    return Either.match(interpret(text.right), {
      onLeft: ({ detail, reason }) => notFound(reason, detail, mode),
      onRight: (login): Discovery => ({ _tag: "Found", source: "file", path, mode, keychainService: null, login })
    })
  })

/** {@link discoverWith} under this machine's rules. */
export const discover = discoverWith()
