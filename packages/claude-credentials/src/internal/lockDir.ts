/**
 * Directory locks in the proper-lockfile convention Claude Code uses: `mkdir`
 * is the atomic test-and-set, the holder refreshes the directory's mtime, and
 * a directory whose mtime is older than the stale limit belongs to a holder
 * that died and may be removed by whoever finds it.
 *
 * @internal
 */
import type { Stats } from "node:fs"
import * as fs from "node:fs/promises"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"

/** A syscall on a lock path failed with something the protocol does not expect. */
export class LockIo extends Data.TaggedError("LockIo")<{ readonly path: string; readonly code: string }> {}

/** A lock was still held by someone else when the wait ran out. */
export class LockBusy extends Data.TaggedError("LockBusy")<{ readonly path: string; readonly waitedMs: number }> {}

/**
 * The directory instance we created. A taker that removed a stale lock and
 * made its own has a different inode or birth time, so we can tell our lock
 * from its successor and never touch or remove someone else's.
 */
export interface Held {
  readonly path: string
  readonly ino: number
  readonly birthtimeMs: number
}

/**
 * One lock to take. `abandoned` tells whether the instance `seen` provably
 * belongs to a process that no longer runs (from an owner record): such a
 * lock is taken over at once instead of after `staleMs`, as Claude Code does.
 */
export interface Spec {
  readonly path: string
  readonly abandoned?: ((seen: Stats) => Effect.Effect<boolean>) | undefined
}

/** How long a lock may go untouched, how long to wait for one, how often to look. */
export interface Timing {
  readonly staleMs: number
  readonly waitMs: number
  readonly retryMs: number
}

/** The errno code of a Node fs failure, or `EUNKNOWN`. */
export const errnoOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : "EUNKNOWN"

/** Runs one fs call, failing with its errno code. */
export const call = <A>(path: string, f: () => Promise<A>): Effect.Effect<A, LockIo> =>
  Effect.tryPromise({ try: f, catch: (error) => new LockIo({ path, code: errnoOf(error) }) })

/** `lstat`, with a missing path as `null`. */
export const statOrNull = (path: string): Effect.Effect<Stats | null, LockIo> =>
  call(path, () => fs.lstat(path)).pipe(Effect.catchIf((e) => e.code === "ENOENT", () => Effect.succeed(null)))

const isInstance = (stat: Stats, held: Held): boolean =>
  stat.isDirectory() && stat.ino === held.ino && stat.birthtimeMs === held.birthtimeMs

const mkdirOnce = (path: string): Effect.Effect<boolean, LockIo> =>
  call(path, () => fs.mkdir(path)).pipe(
    Effect.as(true),
    Effect.catchIf((e) => e.code === "EEXIST", () => Effect.succeed(false))
  )

type Attempt = { readonly _tag: "Held"; readonly held: Held } | { readonly _tag: "Busy" }

const busy: Attempt = { _tag: "Busy" }

const identify = (path: string): Effect.Effect<Attempt, LockIo> =>
  Effect.flatMap(statOrNull(path), (stat) =>
    stat === null
      ? // Removed the instant after we made it: someone judged it stale, so it is theirs now.
        Effect.succeed(busy)
      : Effect.succeed<Attempt>({ _tag: "Held", held: { path, ino: stat.ino, birthtimeMs: stat.birthtimeMs } })
  )

/** `mkdir` once, never taking over: what follows a removal, as in proper-lockfile (`stale: 0`). */
const takeFresh = (path: string): Effect.Effect<Attempt, LockIo> =>
  Effect.flatMap(mkdirOnce(path), (made) => (made ? identify(path) : Effect.succeed(busy)))

/**
 * One try at a lock: create it, or remove it and create it if it is stale.
 * Two takers racing for the same stale lock: each re-checks that the
 * directory is still the instance it judged stale just before removing it,
 * and after a removal only a plain `mkdir` follows, so a taker that loses
 * the race sees EEXIST and waits instead of removing the winner's lock.
 */
const tryTake = (spec: Spec, staleMs: number): Effect.Effect<Attempt, LockIo> =>
  Effect.gen(function* () {
    const { path } = spec
    if (yield* mkdirOnce(path)) return yield* identify(path)
    const seen = yield* statOrNull(path)
    if (seen === null) return yield* takeFresh(path)
    const now = yield* Clock.currentTimeMillis
    if (now - seen.mtimeMs <= staleMs && !(spec.abandoned !== undefined && (yield* spec.abandoned(seen)))) return busy
    const again = yield* statOrNull(path)
    if (again !== null) {
      const unchanged = again.ino === seen.ino && again.birthtimeMs === seen.birthtimeMs && again.mtimeMs === seen.mtimeMs
      if (!unchanged) return busy
      yield* call(path, () => fs.rmdir(path)).pipe(Effect.catchIf((e) => e.code === "ENOENT", () => Effect.void))
    }
    return yield* takeFresh(path)
  })

/**
 * Tries are serialized within this process, which closes the one window the
 * re-check leaves (a taker's removal landing after another taker's fresh
 * `mkdir`) between fibers here; across processes it stays as narrow as
 * proper-lockfile's, which Claude Code lives with.
 */
const tries = Effect.unsafeMakeSemaphore(1)

/** Removes the lock if it is still our instance; never fails (a finalizer). */
export const release = (held: Held): Effect.Effect<void> =>
  Effect.gen(function* () {
    const stat = yield* statOrNull(held.path)
    if (stat === null) return
    if (!isInstance(stat, held)) {
      return yield* Effect.logWarning(`lock ${held.path} was taken over by another process; leaving its lock alone`)
    }
    yield* call(held.path, () => fs.rmdir(held.path)).pipe(
      Effect.catchIf((e) => e.code === "ENOENT", () => Effect.void)
    )
  }).pipe(
    Effect.catchAll((e) => Effect.logWarning(`lock ${e.path} could not be removed [${e.code}]`))
  )

/**
 * Refreshes the lock's mtime if it is still our instance. `false` means we
 * lost it (someone took it over after judging it stale): stop touching it.
 */
export const touch = (held: Held, nowMs: number): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    const stat = yield* statOrNull(held.path)
    if (stat === null || !isInstance(stat, held)) return false
    const at = new Date(nowMs)
    yield* call(held.path, () => fs.utimes(held.path, at, at))
    return true
  }).pipe(
    // A failed touch is retried on the next beat; the lock only goes stale after several misses.
    Effect.catchAll((e) =>
      Effect.as(Effect.logWarning(`lock ${e.path} could not be refreshed [${e.code}]`), e.code !== "ENOENT")
    )
  )

/**
 * Takes every lock in `specs`, in order, waiting while any is held. Each
 * lock's release is registered in the ambient scope the moment it is taken.
 * If a later lock is busy, the earlier ones are released before waiting:
 * Claude Code takes the same locks in the same order, and holding the first
 * while waiting on the second could deadlock with it.
 */
export const acquireAll = (
  specs: ReadonlyArray<Spec>,
  timing: Timing
): Effect.Effect<ReadonlyArray<Held>, LockIo | LockBusy, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const started = yield* Clock.currentTimeMillis
    const deadline = started + timing.waitMs
    while (true) {
      const attempt = yield* Scope.fork(scope, ExecutionStrategy.sequential)
      const taken: Array<Held> = []
      let busyPath: string | undefined
      for (const spec of specs) {
        // acquireRelease makes each try uninterruptible, so a lock we made always has its finalizer.
        const result = yield* Effect.acquireRelease(tries.withPermits(1)(tryTake(spec, timing.staleMs)), (a) =>
          a._tag === "Held" ? release(a.held) : Effect.void
        ).pipe(Scope.extend(attempt))
        if (result._tag === "Busy") {
          busyPath = spec.path
          break
        }
        taken.push(result.held)
      }
      if (busyPath === undefined) return taken
      yield* Scope.close(attempt, Exit.void)
      const now = yield* Clock.currentTimeMillis
      if (now >= deadline) return yield* new LockBusy({ path: busyPath, waitedMs: now - started })
      const pause = Math.round(timing.retryMs * (yield* Random.nextRange(0.5, 1.5)))
      yield* Effect.sleep(Math.max(1, Math.min(pause, deadline - now)))
    }
  })

/** Touches every held lock every `everyMs` until interrupted, dropping any we lost. */
export const heartbeat = (held: ReadonlyArray<Held>, everyMs: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    let live = held
    while (live.length > 0) {
      yield* Effect.sleep(everyMs)
      const now = yield* Clock.currentTimeMillis
      const still: Array<Held> = []
      for (const lock of live) {
        // Uninterruptible so that release, which stops the heartbeat first, never races a touch in flight.
        if (yield* Effect.uninterruptible(touch(lock, now))) still.push(lock)
        else yield* Effect.logWarning(`lock ${lock.path} was taken over by another process`)
      }
      live = still
    }
  })
