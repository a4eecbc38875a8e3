/**
 * The daemon's persisted state, `$XDG_STATE_HOME/tollgate/daemon.json`:
 * written atomically (temp file + rename, mode 0600, in a 0700 directory) so
 * a crash leaves the old state or the new one.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { writeAtomic } from "./internal/atomicFile.js"
import type { Paths } from "./Paths.js"
import * as Quota from "./Quota.js"

const decode = Schema.decodeUnknownOption(Schema.parseJson(Quota.Persisted))

/** The saved state, or `undefined` when there is none or it cannot be read. @since 0.1.0 */
export const load = (paths: Paths): Effect.Effect<Quota.Persisted | undefined> =>
  Effect.promise(() => fs.readFile(paths.stateFile, "utf8").catch(() => null)).pipe(
    Effect.map((text) => (text === null ? undefined : decode(text).pipe((o) => (o._tag === "Some" ? o.value : undefined))))
  )

/** Saves atomically. @since 0.1.0 */
export const save = (paths: Paths, state: Quota.Persisted): Effect.Effect<void, Error> =>
  Effect.tryPromise({
    try: async () => {
      await fs.mkdir(paths.stateDir, { recursive: true, mode: 0o700 })
      await writeAtomic(paths.stateFile, JSON.stringify(state) + "\n", { durable: true })
    },
    catch: (error) => new Error(`could not save the daemon state to ${paths.stateFile}: ${(error as { code?: string }).code ?? "error"}`)
  })
