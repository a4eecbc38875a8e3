/**
 * Which backend holds the login Claude Code would use, and a store that
 * updates every backend holding one together — or none of them.
 *
 * On macOS Claude Code reads the Keychain first and falls back to the file;
 * everywhere else there is only the file.
 *
 * @since 0.1.0
 */
import type { Credential } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Backend, Prepared, Store, StoreError } from "./CredentialStore.js"
import * as FileStore from "./FileStore.js"
import * as KeychainStore from "./KeychainStore.js"
import type { Location } from "./StoreLocation.js"

/**
 * The outcome of picking a backend: the store to use, the backend Claude Code
 * would read, every backend that holds a document, and why — what
 * `tollgate doctor` reports.
 *
 * @since 0.1.0
 */
export interface Resolved {
  /** The store to read and write: one backend, or both kept in step. */
  readonly store: Store
  /** The backend Claude Code would read. */
  readonly chosen: Backend
  /** Every backend that holds a document. */
  readonly present: ReadonlyArray<Backend>
  /** Why, in plain words. */
  readonly why: string
}

const hasLogin = (document: Option.Option<Credential.Document>) =>
  Option.isSome(document) && document.value.claudeAiOauth !== undefined

/**
 * Picks the backend as Claude Code would. `keychain` is `null` where there is
 * no Keychain (not macOS, or no `security` tool).
 *
 * @since 0.1.0
 */
export const resolve = (options: {
  readonly file: Store
  readonly keychain: Store | null
}): Effect.Effect<Resolved, StoreError> =>
  Effect.gen(function* () {
    const { file, keychain } = options
    const fileDoc = yield* file.read
    if (keychain === null) {
      return {
        store: file,
        chosen: "file",
        present: Option.isSome(fileDoc) ? ["file"] : [],
        why: "the file is the only store on this platform"
      }
    }
    const keychainDoc = yield* keychain.read
    if (!hasLogin(keychainDoc)) {
      return {
        store: file,
        chosen: "file",
        present: [
          ...(Option.isSome(keychainDoc) ? (["keychain"] as const) : []),
          ...(Option.isSome(fileDoc) ? (["file"] as const) : [])
        ],
        why: "the Keychain holds no login, so Claude Code falls back to the file"
      }
    }
    if (!hasLogin(fileDoc)) {
      return {
        store: keychain,
        chosen: "keychain",
        present: ["keychain"],
        why: "Claude Code on macOS reads the Keychain"
      }
    }
    return {
      store: together(keychain, file),
      chosen: "keychain",
      present: ["keychain", "file"],
      why: "Claude Code on macOS reads the Keychain first; the file holds a login too, so both are written together"
    }
  })

/** Where to look, beyond the location. @since 0.2.0 */
export interface DetectOptions extends KeychainStore.PlatformOptions {
  /** Follow a `.credentials.json` that is a symbolic link. */
  readonly followSymlinks?: boolean | undefined
}

/**
 * The store Claude Code would read at `location`, found as Claude Code finds
 * it: the Keychain on macOS when the `security` tool is there (see
 * {@link resolve} for which backend wins), else the file: the store a
 * refresh reads and writes (`ClaudeCredentials.open`) and doctor reports.
 * Reading the login alone (doctor, the daemon) is `LoginDiscovery`, which
 * follows the same rule without reading the file first.
 *
 * @since 0.2.0
 */
export const detect = (location: Location, options: DetectOptions = {}): Effect.Effect<Resolved, StoreError> =>
  Effect.gen(function* () {
    const file = FileStore.make(location, { followSymlinks: options.followSymlinks })
    return yield* resolve({ file, keychain: yield* KeychainStore.onThisMachine(location, options) })
  })

/**
 * Reads `primary`; writes `primary` then `secondary`, and if the second write
 * fails puts the first back, so the two never disagree.
 *
 * @since 0.1.0
 */
export const together = (primary: Store, secondary: Store): Store => {
  const prepare = (template: Credential.Document) =>
    Effect.gen(function* () {
      const first = yield* primary.prepare(template)
      const second = yield* secondary.prepare(template)
      const prepared: Prepared = {
        swap: (decide) =>
          Effect.gen(function* () {
            let before = Option.none<Credential.Document>()
            const document = yield* first.swap((latest) => {
              before = latest
              return decide(latest)
            })
            yield* second
              .swap(() => Either.right(document))
              .pipe(
                Effect.tapError(() =>
                  Option.isSome(before) ? primary.write(before.value).pipe(Effect.ignore) : Effect.void
                )
              )
            return document
          }),
        settle: Effect.zipRight(first.settle, second.settle)
      }
      return prepared
    })
  return {
    backend: primary.backend,
    location: primary.location,
    read: primary.read,
    write: (document) =>
      Effect.scoped(
        Effect.flatMap(prepare(document), (prepared) =>
          Effect.zipRight(
            prepared.swap(() => Either.right(document)),
            prepared.settle
          )
        )
      ),
    prepare
  }
}
