/**
 * What `tollgate refresh` remembers between runs, under
 * `$XDG_STATE_HOME/tollgate/refresh.json`: the token-endpoint backoff (so a
 * 429 or a dead login is not retried by the next invocation) and the last
 * outcome, which `tollgate doctor` reports.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Backoff } from "@tollgate/core"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** The last refresh, for reports. */
export const Last = Schema.Struct({
  at: Schema.Number,
  /** `Refreshed`, `Adopted`, `NotNeeded`, or the error's tag. */
  outcome: Schema.String,
  message: Schema.String
})

export type Last = typeof Last.Type

export const State = Schema.Struct({
  version: Schema.Literal(1),
  backoff: Backoff.State,
  last: Schema.NullOr(Last)
})

export type State = typeof State.Type

const empty: State = { version: 1, backoff: {}, last: null }

/** `$XDG_STATE_HOME/tollgate`, else `~/.local/state/tollgate`. */
export const directory = Effect.gen(function* () {
  const path = yield* Path.Path
  const xdg = yield* Config.option(Config.string("XDG_STATE_HOME"))
  const base = Option.isSome(xdg) && xdg.value.trim() !== "" ? xdg.value : path.join(yield* Config.string("HOME"), ".local", "state")
  return path.join(base, "tollgate")
})

const file = Effect.gen(function* () {
  const path = yield* Path.Path
  return path.join(yield* directory, "refresh.json")
})

/** The saved state; a missing or unreadable file is a fresh start, never an error. */
export const load = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(yield* file).pipe(Effect.option)
  if (Option.isNone(text)) return empty
  return yield* Schema.decodeUnknown(Schema.parseJson(State))(text.value).pipe(Effect.orElseSucceed(() => empty))
})

/** Saves atomically (temp file + rename) with mode 0600 in a 0700 directory. */
export const save = (state: State) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* directory
    const target = yield* file
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
    const temp = `${target}.${process.pid}.tmp`
    yield* fs.writeFileString(temp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 })
    yield* fs.rename(temp, target)
  })
