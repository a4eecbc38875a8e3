/**
 * The one error the socket machinery raises, shared by `Server` and
 * `SingleInstance` (both re-export it from `Server`).
 */
import * as Schema from "effect/Schema"

/** @internal */
export class SocketError extends Schema.TaggedError<SocketError>("@tollgate/daemon/SocketError")("SocketError", {
  /** `AlreadyRunning`: a live daemon answers on the socket. `UnsafeDirectory`: the socket's directory is not ours alone. `Listen`: binding failed. */
  reason: Schema.Literal("AlreadyRunning", "UnsafeDirectory", "Listen"),
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    // An unsafe directory's detail is already one line naming the path (and its owner).
    return this.reason === "UnsafeDirectory" ? this.detail : `${this.path}: ${this.detail}`
  }
}
