/**
 * Finds the local Claude Code login the way Claude Code does, without any
 * network call, and reduces it to facts that are safe to print: never a
 * token, at most its fingerprint.
 *
 * Order (reference, section 3): `CLAUDE_CODE_OAUTH_TOKEN`, else
 * `.credentials.json` in `$CLAUDE_SECURESTORAGE_CONFIG_DIR`, else
 * `$CLAUDE_CONFIG_DIR`, else `$HOME/.claude`. The macOS Keychain is not read.
 * The document is parsed by `Credential.parseDocument`, like every other
 * reader of the store.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Credential, Scopes } from "@tollgate/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as os from "node:os"

/** The file name Claude Code stores its login in. */
export const FILE_NAME = ".credentials.json"

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
 * both are `null` for the environment, which Claude Code prefers to any file.
 */
export interface Found {
  readonly _tag: "Found"
  readonly source: Extract<Credential.Source, "environment" | "file">
  readonly path: string | null
  readonly mode: number | null
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

const nonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")))

/** The directory Claude Code keeps `.credentials.json` in, read from the environment. */
export const configDir = Effect.gen(function* () {
  const secure = yield* nonEmpty("CLAUDE_SECURESTORAGE_CONFIG_DIR")
  const config = yield* nonEmpty("CLAUDE_CONFIG_DIR")
  const home = yield* Config.string("HOME").pipe(Config.withDefault(os.homedir()))
  const path = yield* Path.Path
  return Option.getOrElse(
    Option.orElse(secure, () => config),
    () => path.join(home, ".claude")
  )
})

const environmentToken = Config.option(Config.redacted("CLAUDE_CODE_OAUTH_TOKEN")).pipe(
  Config.map(Option.filter((token) => Redacted.value(token).trim() !== ""))
)

const fromEnvironment = (token: Redacted.Redacted<string>): Found => ({
  _tag: "Found",
  source: "environment",
  path: null,
  mode: null,
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
 * Finds the login Claude Code would use. Every problem with the file is a
 * {@link NotFound}; only a broken `ConfigProvider` fails the effect.
 */
export const discover: Effect.Effect<Discovery, ConfigError.ConfigError, FileSystem.FileSystem | Path.Path> =
  Effect.gen(function* () {
    const token = yield* environmentToken
    if (Option.isSome(token)) return fromEnvironment(token.value)
    const path = (yield* Path.Path).join(yield* configDir, FILE_NAME)

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
      onRight: (login): Discovery => ({ _tag: "Found", source: "file", path, mode, login })
    })
  })
