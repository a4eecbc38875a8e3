/**
 * The daemon's published status (`Protocol.Published`) in
 * `$XDG_RUNTIME_DIR/tollgate/status.json`, beside the socket: rewritten after
 * every status answer (`@tollgate/files`' AtomicFile: a random O_EXCL temp
 * file, 0600, renamed over it, in the socket's 0700 directory, so a reader
 * sees the old file or the new one, never a part),
 * removed at start-up and at shutdown. No fsync: the file lives in the
 * runtime directory and only ever describes this run of the daemon.
 *
 * @since 0.1.0
 */
import { AtomicFile } from "@tollgate/files"
import * as fs from "node:fs/promises"
import * as Effect from "effect/Effect"
import type { Paths } from "./Paths.js"
import type * as Protocol from "./Protocol.js"

/** Writes atomically; the error names the file, never its contents. @since 0.1.0 */
export const write = (paths: Paths, published: Protocol.Published): Effect.Effect<void, Error> =>
  Effect.tryPromise({
    try: () => AtomicFile.write(paths.published, `${JSON.stringify(published)}\n`, { durable: false }),
    catch: (error) =>
      new Error(`could not publish the status to ${paths.published}: ${(error as { code?: string }).code ?? "error"}`)
  })

/** Removes the file; a missing one is fine. @since 0.1.0 */
export const remove = (paths: Paths): Effect.Effect<void> =>
  Effect.promise(() => fs.rm(paths.published, { force: true }))
