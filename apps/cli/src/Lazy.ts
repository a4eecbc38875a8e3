/**
 * Runs a command's handler from a module loaded when the command runs.
 *
 * A command's definition (its name, options and description, all that
 * `--help` and completions need) is light; what it does can pull in the
 * core classifier, the credential store, the simulator, a YAML parser. The
 * definitions load on every start, the handlers only for the command asked
 * for: `tollgate --help` never loads a handler, and each command's own
 * bundle (see build.mjs) holds its handler alone.
 */
import * as Effect from "effect/Effect"

/** Loads the handler module only when the command runs, then runs `use` on it. */
export const handler = <M, A, E, R>(
  load: () => Promise<M>,
  use: (module: M) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.flatMap(Effect.promise(load), use)
