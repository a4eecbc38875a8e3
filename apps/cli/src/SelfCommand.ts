/**
 * The command that runs this very `tollgate` again from another program
 * (Claude Code's statusline, a service manager, the Hermes plugin): the
 * absolute path of this node and the built dispatcher `dist/tollgate.js`,
 * symlinks resolved — never TypeScript sources or tsx loader flags, which
 * start ~10× slower and break when the checkout moves on.
 *
 * Run from the built CLI (installed, or `pnpm tollgate …` in a checkout),
 * that is the running dispatcher. Run from the sources under tsx, it is the
 * checkout's own build beside them (`apps/cli/dist/tollgate.js`) when that is
 * at least as new as every source it bundles; otherwise the install is
 * refused with {@link NotBuilt}, and `--dry-run` refuses the same way, since
 * a dry run predicts the real one.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { existsSync, realpathSync, statSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { sourcesNewestAt } from "../freshness.mjs"

/** The way out of {@link NotBuilt}, in the user's words. */
export const HINT =
  "run it as `pnpm tollgate …` from the checkout (which builds the CLI first) or install the built CLI (`npm i -g @tollgate/cli`)"

/** No built `tollgate` to point another program at; nothing was written. */
export class NotBuilt extends Schema.TaggedError<NotBuilt>("@tollgate/cli/SelfCommand/NotBuilt")("NotBuilt", {
  command: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.command}: ${this.detail}`
  }
}

/** What another program runs: `[node, dispatcher]`, both absolute. */
export interface Self {
  readonly node: string
  readonly dispatcher: string
  readonly argv: readonly [string, string]
}

/** The process facts the lookup reads (the real `process` by default). */
export interface Running {
  readonly execPath: string
  readonly argv: ReadonlyArray<string>
}

const SOURCE = /\.[cm]?ts$/

const mtime = (path: string): number | null => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return null
  }
}

/**
 * Finds the built dispatcher for the running entry. Right: `[node, dispatcher]`;
 * Left: why there is none, in words that end with what to do.
 */
export const locate = (running: Running = process): Either.Either<Self, string> => {
  const entry = running.argv[1]
  if (entry === undefined) return Either.left(`cannot tell where the tollgate entry is (no argv[1]); ${HINT}`)
  let real: string
  try {
    real = realpathSync(entry)
  } catch {
    return Either.left(`the tollgate entry ${entry} cannot be resolved; ${HINT}`)
  }
  const found = (dispatcher: string): Self => ({
    node: running.execPath,
    dispatcher,
    argv: [running.execPath, dispatcher]
  })

  if (!SOURCE.test(real)) {
    // The dispatcher itself, or a command's bundle below it (dist/cli/<command>.cjs run directly).
    if (basename(real) === "tollgate.js") return Either.right(found(real))
    const above = join(dirname(dirname(real)), "tollgate.js")
    if (existsSync(above)) return Either.right(found(realpathSync(above)))
    return Either.left(`${real} is not a built tollgate (no tollgate.js above it); ${HINT}`)
  }

  // TypeScript sources (apps/cli/src/*.ts under tsx): the checkout's build beside them, if it is current.
  const app = dirname(dirname(real))
  const dispatcher = join(app, "dist", "tollgate.js")
  const builtAt = mtime(dispatcher)
  if (builtAt === null) {
    return Either.left(`running from the TypeScript sources and ${dispatcher} is not built; ${HINT}`)
  }
  if (builtAt < sourcesNewestAt(join(app, "..", ".."))) {
    return Either.left(`running from the TypeScript sources and ${dispatcher} is older than them; ${HINT}`)
  }
  return Either.right(found(realpathSync(dispatcher)))
}

/** {@link locate} for the installer `command` (e.g. `daemon install`), failing with {@link NotBuilt}. */
export const resolve = (command: string, running: Running = process): Effect.Effect<Self, NotBuilt> =>
  Effect.suspend(() =>
    Either.match(locate(running), {
      onLeft: (detail) => Effect.fail(new NotBuilt({ command, detail })),
      onRight: Effect.succeed
    })
  )
