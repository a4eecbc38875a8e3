/**
 * The port every credential backend implements: read and replace Claude
 * Code's whole credentials document. Backends never interpret the login and
 * never drop a key; the refresh protocol above them decides what changes.
 *
 * @since 0.1.0
 */
import type { Credential } from "@tollgate/core"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Location } from "./StoreLocation.js"

/** The schema of a backend's name, as `StoreError` and `Stores.Resolved` report it. @since 0.1.0 */
export const Backend = Schema.Literal("file", "keychain")

/** Which backend holds the document: the `.credentials.json` file or the macOS Keychain. @since 0.1.0 */
export type Backend = typeof Backend.Type

/**
 * A store could not be read or written. `message` never quotes the store's
 * contents or a token.
 *
 * @since 0.1.0
 */
export class StoreError extends Schema.TaggedError<StoreError>("@tollgate/claude-credentials/StoreError")(
  "StoreError",
  {
    backend: Backend,
    operation: Schema.Literal("read", "write"),
    reason: Schema.Literal(
      "not_json",
      "not_an_object",
      "malformed_login",
      "symlink",
      "permission",
      "io",
      "keychain",
      "too_large",
      "too_deep",
      "not_regular",
      "not_serializable",
      "no_space"
    ),
    /** Where: a path or a Keychain service name. */
    where: Schema.String,
    /** A safe detail: an errno code or the `security` tool's exit status. */
    detail: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const what = {
      not_json: "is not valid JSON",
      not_an_object: "does not hold a JSON object",
      malformed_login: "holds a malformed claudeAiOauth record",
      symlink: "is a symbolic link; refusing to follow it (pass followSymlinks to allow)",
      permission: "is not accessible (permission denied)",
      io: "could not be accessed",
      keychain: "could not be accessed through the `security` tool",
      too_large: "is larger than any Claude Code login; it is not read, so it is never written back",
      too_deep: "nests too deeply to be written back safely; it is not read",
      not_regular: "is not a regular file (a directory, a FIFO or a device); refusing to read or replace it",
      not_serializable: "holds a document that could not be written back (nested too deeply or too large)",
      no_space: "cannot be replaced: the disk has no room for the new document"
    }[this.reason]
    return `The Claude Code credential store (${this.backend}: ${this.where}) ${what}${this.detail ? ` [${this.detail}]` : ""}; nothing was changed.`
  }
}

/**
 * A replacement of the store made ready in advance by {@link Store.prepare}.
 *
 * @since 0.2.0
 */
export interface Prepared {
  /**
   * The compare-and-swap that ends a refresh: `decide` is handed the store's
   * document as of now and returns its replacement (`Right`), or refuses
   * (`Left`, the store left as it is). "As of now" costs one `stat` while the
   * store is unchanged since `prepare`, and a full read when anything — even
   * a writer that takes no lock — changed it. In the unchanged case, looking,
   * deciding, writing the final bytes and renaming happen in one synchronous
   * step: what could fail for want of room, permission or a serializable
   * document has already been tried by `prepare`. Call it at most once.
   */
  readonly swap: <E>(
    decide: (latest: Option.Option<Credential.Document>) => Either.Either<Credential.Document, E>
  ) => Effect.Effect<Credential.Document, StoreError | E>
  /**
   * What may wait until after the swap: making the rename itself durable
   * (fsync of the directory) and tidying up. Never fails.
   */
  readonly settle: Effect.Effect<void>
}

/**
 * One backend's view of Claude Code's credentials document: read it whole,
 * replace it whole, or prepare a replacement before a refresh spends its
 * token. Implemented by `FileStore`, `KeychainStore` and `Stores.together`.
 *
 * @since 0.1.0
 */
export interface Store {
  readonly backend: Backend
  readonly location: Location
  /** The whole document; `None` when the store holds nothing at all. */
  readonly read: Effect.Effect<Option.Option<Credential.Document>, StoreError>
  /** Replaces the whole document atomically: a reader sees the old or the new document, never a mix. */
  readonly write: (document: Credential.Document) => Effect.Effect<void, StoreError>
  /**
   * Readies a replacement before anything irreversible happens. `template` is
   * a document of the shape and size that will be committed (the new login
   * with placeholder tokens): everything that can fail or take time — serializing
   * it, creating, filling and syncing the temp file (which proves the disk has
   * room), taking the original's owner — happens now, so a refresh refuses
   * before it spends the refresh token rather than after. An uncommitted
   * preparation is discarded when the scope closes.
   */
  readonly prepare: (template: Credential.Document) => Effect.Effect<Prepared, StoreError, Scope.Scope>
}

/**
 * The store the refresh protocol reads and writes.
 *
 * @since 0.1.0
 */
export class CredentialStore extends Context.Tag("@tollgate/claude-credentials/CredentialStore")<
  CredentialStore,
  Store
>() {}
