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
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Location } from "./StoreLocation.js"

/** @since 0.1.0 */
export const Backend = Schema.Literal("file", "keychain")

/** @since 0.1.0 */
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
    reason: Schema.Literal("not_json", "not_an_object", "malformed_login", "symlink", "permission", "io", "keychain"),
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
      keychain: "could not be accessed through the `security` tool"
    }[this.reason]
    return `The Claude Code credential store (${this.backend}: ${this.where}) ${what}${this.detail ? ` [${this.detail}]` : ""}; nothing was changed.`
  }
}

/**
 * @since 0.1.0
 */
export interface Store {
  readonly backend: Backend
  readonly location: Location
  /** The whole document; `None` when the store holds nothing at all. */
  readonly read: Effect.Effect<Option.Option<Credential.Document>, StoreError>
  /** Replaces the whole document atomically: a reader sees the old or the new document, never a mix. */
  readonly write: (document: Credential.Document) => Effect.Effect<void, StoreError>
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
