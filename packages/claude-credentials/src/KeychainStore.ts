/**
 * The macOS Keychain backend of the credential store. Claude Code keeps the
 * whole credentials document as the password of a generic-password item
 * (service and account from the {@link Location}); this backend reads and
 * replaces it through Apple's `security` tool.
 *
 * No token, and no part of the document, is ever put on a command line,
 * where every local process can read it (`ps`, `/proc/<pid>/cmdline`): each
 * command goes to a fresh `security -i` on its stdin, and the document
 * travels as hex (`add-generic-password -X`), as Claude Code writes it.
 *
 * @since 0.1.0
 */
import { isDeepStrictEqual } from "node:util"
import { Credential } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CredentialStore, type Prepared, type Store, StoreError } from "./CredentialStore.js"
import * as Security from "./internal/security.js"
import type { Location } from "./StoreLocation.js"

/** Which `security` tool the Keychain backend runs and how long it waits for it. @since 0.1.0 */
export interface Options {
  /** The `security` executable: a path, or a bare name looked up on `PATH`. Default `"security"`. */
  readonly securityPath?: string | undefined
  /** How long one `security` run may take before it is killed, in ms. Default 10 000. */
  readonly timeoutMs?: number | undefined
}

/**
 * How long one `security` run may take, in ms, when `Options.timeoutMs` is
 * not set: past it the process is killed, so a `security` that hangs fails
 * the read or write instead of stalling the refresh.
 *
 * @since 0.1.0
 */
export const DEFAULT_TIMEOUT_MS = Security.DEFAULT_TIMEOUT_MS

const findCommand = (location: Pick<Location, "keychainService" | "keychainAccount">) => [
  { word: "find-generic-password" },
  { word: "-a" },
  { value: location.keychainAccount },
  { word: "-s" },
  { value: location.keychainService },
  { word: "-w" }
]

const addCommand = (location: Pick<Location, "keychainService" | "keychainAccount">, hex: string) => [
  { word: "add-generic-password" },
  { word: "-U" },
  { word: "-a" },
  { value: location.keychainAccount },
  { word: "-s" },
  { value: location.keychainService },
  { word: "-X" },
  { word: hex }
]

const encodeDocument = Schema.encodeSync(Credential.Document)

/**
 * The largest document (UTF-8 bytes of its JSON) that fits on one
 * `security -i` line with the given service and account. A larger one is
 * refused rather than passed on a command line.
 *
 * @since 0.1.0
 */
export const maxDocumentBytes = (location: Pick<Location, "keychainService" | "keychainAccount">): number => {
  const line = Security.commandLine(addCommand(location, ""))
  return Either.isRight(line)
    ? Math.max(0, Math.floor((Security.MAX_LINE_BYTES - Buffer.byteLength(line.right)) / 2))
    : 0
}

/**
 * A store backed by the Keychain item `location.keychainService` /
 * `location.keychainAccount`.
 *
 * @since 0.1.0
 */
export const make = (location: Location, options: Options = {}): Store => {
  const runOptions: Security.RunOptions = {
    securityPath: options.securityPath ?? "security",
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }
  const where = location.keychainService
  const fail = (operation: "read" | "write", reason: StoreError["reason"], detail?: string) =>
    new StoreError({ backend: "keychain", operation, reason, where, ...(detail === undefined ? {} : { detail }) })

  const run = (operation: "read" | "write", line: string) =>
    Security.run(runOptions, line).pipe(
      Effect.mapError((failure) => fail(operation, "keychain", Security.describeFailure(failure)))
    )

  const lineFor = (operation: "read" | "write", built: Either.Either<string, Security.LineError>) =>
    Either.match(built, {
      onRight: Effect.succeed,
      onLeft: (error) =>
        Effect.fail(
          fail(
            operation,
            "keychain",
            error._tag === "Unquotable"
              ? "the Keychain service or account name contains a line break or NUL, which security -i cannot take"
              : `the command would be ${error.bytes} bytes; security -i takes at most ${Security.MAX_LINE_BYTES} (the document is too large to write without putting it on a command line)`
          )
        )
    })

  const readAs = (operation: "read" | "write") =>
    Effect.gen(function* () {
      const line = yield* lineFor(operation, Security.commandLine(findCommand(location)))
      const exit = yield* run(operation, line)
      if (Security.isNotFound(exit)) return Option.none<Credential.Document>()
      if (exit.code !== 0) return yield* Effect.fail(fail(operation, "keychain", Security.describeExit(exit)))
      const text = Security.decodePassword(exit.stdout)
      if (text.trim() === "") return Option.none<Credential.Document>()
      return yield* Either.match(Credential.parseDocument(text), {
        onLeft: (error) => Effect.fail(fail(operation, error.reason)),
        onRight: (document) => Effect.succeed(Option.some(document))
      })
    })

  const serialize = (document: Credential.Document) =>
    Effect.try({
      try: () => JSON.stringify(encodeDocument(document)),
      catch: () => fail("write", "not_serializable")
    })

  const addLine = (json: string) => lineFor("write", Security.commandLine(addCommand(location, Security.hexOf(json))))

  const write = (document: Credential.Document) =>
    Effect.gen(function* () {
      const json = yield* serialize(document)
      const line = yield* addLine(json)
      const exit = yield* run("write", line)
      if (exit.code !== 0) return yield* Effect.fail(fail("write", "keychain", Security.describeExit(exit)))
      // Exit status 0 is only `security`'s word; reading the item back proves the
      // write, and catches a line its parser split differently than intended.
      const stored = yield* readAs("write")
      const expected: unknown = JSON.parse(json)
      if (Option.isNone(stored) || !isDeepStrictEqual(encodeDocument(stored.value), expected)) {
        return yield* Effect.fail(
          fail("write", "keychain", "reading the item back after the write did not return the document written")
        )
      }
    })

  // The item is replaced in one `security` call, so there is no temp file to prepare: what can be
  // checked in advance is that the document serializes and fits on the command line.
  const prepare = (template: Credential.Document) =>
    Effect.as(Effect.flatMap(serialize(template), addLine), {
      swap: <E>(decide: (latest: Option.Option<Credential.Document>) => Either.Either<Credential.Document, E>) =>
        Effect.flatMap(
          readAs("write"),
          (latest): Effect.Effect<Credential.Document, StoreError | E> =>
            Either.match(decide(latest), {
              onLeft: (refused) => Effect.fail(refused),
              onRight: (document) => Effect.as(write(document), document)
            })
        ),
      settle: Effect.void
    } satisfies Prepared)

  return { backend: "keychain", location, read: readAs("read"), write, prepare }
}

/**
 * Whether a `security` executable exists at `securityPath`, or on `PATH`
 * when it is a bare name (the default, `"security"`).
 *
 * @since 0.1.0
 */
export const isAvailable = (options: Pick<Options, "securityPath"> = {}): Effect.Effect<boolean> =>
  Security.resolveExecutable(options.securityPath ?? "security").pipe(Effect.map(Option.isSome))

/** Where to look for a Keychain: which platform's rules apply, and the `security` tool. @since 0.2.0 */
export interface PlatformOptions {
  /** Default `process.platform`; only macOS has a Keychain. */
  readonly platform?: NodeJS.Platform | undefined
  /** Default `/usr/bin/security`: one earlier on PATH would be handed the login. */
  readonly securityPath?: string | undefined
}

/**
 * The Keychain store at `location` when this machine has one (macOS with the
 * `security` tool), else `null`: the one test of "is there a Keychain" for
 * every reader and writer of the login (`Stores.detect`, `LoginDiscovery`).
 *
 * @since 0.2.0
 */
export const onThisMachine = (location: Location, options: PlatformOptions = {}): Effect.Effect<Store | null> =>
  Effect.gen(function* () {
    if ((options.platform ?? process.platform) !== "darwin") return null
    const security = { securityPath: options.securityPath ?? "/usr/bin/security" }
    return (yield* isAvailable(security)) ? make(location, security) : null
  })

/**
 * The Keychain store as the {@link CredentialStore}.
 *
 * @since 0.1.0
 */
export const layer = (location: Location, options?: Options): Layer.Layer<CredentialStore> =>
  Layer.succeed(CredentialStore, make(location, options))
