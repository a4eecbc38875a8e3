/**
 * What `tollgate refresh` remembers between runs, under
 * `$XDG_STATE_HOME/tollgate/refresh.json`: the token-endpoint backoff (so a
 * 429 or a dead login is not retried by the next invocation) and the last
 * outcome, which `tollgate doctor` reports. `tollgate token` reads and
 * writes it too.
 *
 * Here beside `Refresher` because it is the refresh path's memory across
 * processes: the backoff a `Refresher` run starts from and what it ended
 * with. The CLI's commands only load it, save it and print it.
 *
 * @since 0.2.0
 */
import { Backoff } from "@tollgate/core"
import { AtomicFile, PrivateDirectory, SafeRead, UnsafePath, Xdg } from "@tollgate/files"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { join } from "node:path"

/** The last refresh, for reports. @since 0.2.0 */
export const Last = Schema.Struct({
  at: Schema.Number,
  /** `Refreshed`, `Adopted`, `NotNeeded`, or the error's tag. */
  outcome: Schema.String,
  message: Schema.String
})

/** The last refresh, for reports. @since 0.2.0 */
export type Last = typeof Last.Type

/** `refresh.json`: its format version, the token endpoint's backoff and the last refresh. @since 0.2.0 */
export const State = Schema.Struct({
  version: Schema.Literal(1),
  backoff: Backoff.State,
  last: Schema.NullOr(Last)
})

/** `refresh.json`'s contents. @since 0.2.0 */
export type State = typeof State.Type

const empty: State = { version: 1, backoff: {}, last: null }

/**
 * `$XDG_STATE_HOME/tollgate`, else `~/.local/state/tollgate`: `@tollgate/files`'
 * `Xdg.stateDir` (one rule for every state directory of tollgate's), fed from
 * the `ConfigProvider` so a test can point it elsewhere.
 *
 * @since 0.2.0
 */
export const directory = Effect.gen(function* () {
  const env = (name: string) => Config.option(Config.string(name)).pipe(Effect.map(Option.getOrUndefined))
  return Xdg.stateDir({ HOME: yield* env("HOME"), XDG_STATE_HOME: yield* env("XDG_STATE_HOME") })
})

const file = Effect.map(directory, (dir) => join(dir, "refresh.json"))

/** The largest `refresh.json` read; its real content is a few hundred bytes. @since 0.2.0 */
export const MAX_BYTES = 1024 * 1024

/**
 * The saved state; a missing or unreadable file (or one that is not a
 * regular file of ours within `MAX_BYTES`: the next save replaces it) is a
 * fresh start. A state directory that is a symlink, not a directory or
 * another user's fails with `UnsafePath` (one line naming it), so a refresh
 * refuses before it spends anything rather than after.
 *
 * @since 0.2.0
 */
export const load = Effect.gen(function* () {
  const dir = yield* directory
  const target = yield* file
  const present = yield* Effect.tryPromise({ try: () => PrivateDirectory.verify(dir), catch: (error) => error }).pipe(
    Effect.catchAll((error) => (UnsafePath.isUnsafePath(error) ? Effect.fail(error) : Effect.succeed(false)))
  )
  if (!present) return empty
  const text = yield* Effect.promise(() =>
    SafeRead.readText(target, { maxBytes: MAX_BYTES, mustBeOurs: true }).catch(() => null)
  )
  if (text === null) return empty
  return yield* Schema.decodeUnknown(Schema.parseJson(State))(text).pipe(Effect.orElseSucceed(() => empty))
})

/**
 * Saves with `@tollgate/files`: the state directory created 0700 (or
 * checked to be ours and not a symlink), then an atomic 0600 replace under
 * a random `O_EXCL|O_NOFOLLOW` temp name. Fails with `UnsafePath` or an
 * error naming the file and the errno, never its contents.
 *
 * @since 0.2.0
 */
export const save = (state: State) =>
  Effect.gen(function* () {
    const dir = yield* directory
    const target = yield* file
    yield* Effect.tryPromise({
      try: async () => {
        await PrivateDirectory.ensure(dir)
        await AtomicFile.write(target, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, durable: true })
      },
      catch: (error) =>
        UnsafePath.isUnsafePath(error)
          ? error
          : new Error(`cannot save ${target} (${(error as { code?: string }).code ?? "error"})`)
    })
  })
