/**
 * The daemon's persisted state, `$XDG_STATE_HOME/tollgate/daemon.json`:
 * written atomically (`@tollgate/files`' AtomicFile: a random O_EXCL temp
 * file, 0600, fsync, rename) in a private directory of ours, so a crash
 * leaves the old state or the new one. Read with a size cap, regular files
 * only: a FIFO, a device or a runaway file where the state belongs is
 * skipped with a warning, never waited on or read whole.
 *
 * @since 0.1.0
 */
import { AtomicFile, PrivateDirectory, SafeRead, UnsafePath } from "@tollgate/files"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Paths } from "./Paths.js"
import * as Quota from "./Quota.js"

const decode = Schema.decodeUnknownOption(Schema.parseJson(Quota.Persisted))

/** The largest `daemon.json` the daemon reads; its real state is a few KB. @since 0.1.0 */
export const MAX_BYTES = 1024 * 1024

/**
 * The saved state, or `undefined` when there is none or it cannot be used.
 * A file that is not safe to read (not a regular file, a symlink, another
 * user's, over {@link MAX_BYTES}) gets one `warn` line naming it; the next
 * save replaces it.
 *
 * @since 0.1.0
 */
export const load = (
  paths: Paths,
  warn: (line: string) => void = () => {}
): Effect.Effect<Quota.Persisted | undefined> =>
  Effect.promise(() =>
    SafeRead.readText(paths.stateFile, { maxBytes: MAX_BYTES, mustBeOurs: true }).catch((error: unknown) => {
      warn(
        UnsafePath.isUnsafePath(error)
          ? `tollgate daemon: ignoring the saved state: ${error.message}`
          : `tollgate daemon: ignoring the saved state: cannot read ${paths.stateFile} (${(error as { code?: string }).code ?? "error"})`
      )
      return null
    })
  ).pipe(
    Effect.map((text) =>
      text === null ? undefined : decode(text).pipe((o) => (o._tag === "Some" ? o.value : undefined))
    )
  )

/** Saves atomically; the error names the file, never its contents. @since 0.1.0 */
export const save = (paths: Paths, state: Quota.Persisted): Effect.Effect<void, Error> =>
  Effect.tryPromise({
    try: async () => {
      await PrivateDirectory.ensure(paths.stateDir)
      await AtomicFile.write(paths.stateFile, `${JSON.stringify(state)}\n`, { durable: true })
    },
    catch: (error) =>
      new Error(
        UnsafePath.isUnsafePath(error)
          ? `could not save the daemon state: ${error.message}`
          : `could not save the daemon state to ${paths.stateFile}: ${(error as { code?: string }).code ?? "error"}`
      )
  })
