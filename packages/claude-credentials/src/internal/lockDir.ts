/**
 * Claude Code's lock directories on Effect: `@tollgate/files`' LockDir does
 * each step (mkdir, stale or abandoned takeover, touch, release of our
 * instance only); here they are scheduled on Effect's `Clock` and scope, and
 * several locks are taken in Claude Code's order.
 *
 * @internal
 */
import type { Stats } from "node:fs"
import * as fs from "node:fs/promises"
import { LockDir } from "@tollgate/files"
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

/** The directory instance we created (see `LockDir.Held`). */
export type Held = LockDir.Held

/** One lock to take (see `LockDir.Spec`): `abandoned` lets a lock of a dead holder go at once. */
export type Spec = LockDir.Spec

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
  call(path, () => fs.lstat(path)).pipe(
    Effect.catchIf(
      (e) => e.code === "ENOENT",
      () => Effect.succeed(null)
    )
  )

const tryTake = (spec: Spec, staleMs: number): Effect.Effect<Held | null, LockIo> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => call(spec.path, () => LockDir.tryTake(spec, staleMs, now)))

/** Removes the lock if it is still our instance; never fails (a finalizer). */
export const release = (held: Held): Effect.Effect<void> =>
  call(held.path, () => LockDir.release(held)).pipe(
    Effect.flatMap((found) =>
      found === "taken-over"
        ? Effect.logWarning(`lock ${held.path} was taken over by another process; leaving its lock alone`)
        : Effect.void
    ),
    Effect.catchAll((e) => Effect.logWarning(`lock ${e.path} could not be removed [${e.code}]`))
  )

/**
 * Refreshes the lock's mtime if it is still our instance. `false` means we
 * lost it (someone took it over after judging it stale): stop touching it.
 */
export const touch = (held: Held, nowMs: number): Effect.Effect<boolean> =>
  call(held.path, () => LockDir.touch(held, nowMs)).pipe(
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
        const held = yield* Effect.acquireRelease(tryTake(spec, timing.staleMs), (h) =>
          h !== null ? release(h) : Effect.void
        ).pipe(Scope.extend(attempt))
        if (held === null) {
          busyPath = spec.path
          break
        }
        taken.push(held)
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
