/**
 * Directory locks in the proper-lockfile convention Claude Code uses: `mkdir`
 * is the atomic test-and-set, the holder refreshes the directory's mtime (a
 * heartbeat), and a directory whose mtime is older than the stale limit
 * belongs to a holder that died and may be removed by whoever finds it. A
 * lock whose owner record ({@link LockOwner}) proves its holder gone is taken
 * over at once instead.
 *
 * The steps (`tryTake`, `touch`, `release`) are for a caller that schedules
 * its own waiting and heartbeat (claude-credentials does, on Effect's
 * `Clock`); `acquire` and `withLock` do it all with timers.
 *
 * @since 0.2.0
 */
import { lstatSync, mkdirSync, rmdirSync, type Stats } from "node:fs"
import { lstat, mkdir, rmdir, utimes } from "node:fs/promises"
import { errorCode } from "./internal/stats.js"
import * as LockOwner from "./LockOwner.js"

/**
 * The directory instance we created. A taker that removed a stale lock and
 * made its own has a different inode or birth time, so we can tell our lock
 * from its successor and never touch or remove someone else's.
 *
 * @since 0.2.0
 */
export interface Held {
  readonly path: string
  readonly ino: number
  readonly birthtimeMs: number
}

/**
 * One lock to take. `abandoned` tells whether the instance `seen` provably
 * belongs to a process that no longer runs (e.g. {@link LockOwner.abandoned}):
 * such a lock is taken over at once instead of after `staleMs`.
 *
 * @since 0.2.0
 */
export interface Spec {
  readonly path: string
  readonly abandoned?: ((seen: Stats) => boolean | Promise<boolean>) | undefined
}

const statOrNull = (path: string): Promise<Stats | null> =>
  lstat(path).catch((error: unknown) => {
    if (errorCode(error) === "ENOENT") return null
    throw error
  })

const ignoreMissing = (error: unknown): void => {
  if (errorCode(error) !== "ENOENT") throw error
}

const isInstance = (stat: Stats, held: Held): boolean =>
  stat.isDirectory() && stat.ino === held.ino && stat.birthtimeMs === held.birthtimeMs

const mkdirOnce = (path: string): Promise<boolean> =>
  mkdir(path, { mode: 0o700 }).then(
    () => true,
    (error: unknown) => {
      if (errorCode(error) === "EEXIST") return false
      throw error
    }
  )

const mkdirOnceSync = (path: string): boolean => {
  try {
    mkdirSync(path, { mode: 0o700 })
    return true
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false
    throw error
  }
}

// The owner record's path for the lock at `path`: `<path>.owner` unless the options name one (or `null`: none).
const ownerFileOf = (path: string, options: Options): string | null =>
  options.ownerFile === undefined ? `${path}.owner` : options.ownerFile

const identify = async (path: string): Promise<Held | null> => {
  const stat = await statOrNull(path)
  // Removed the instant after we made it: someone judged it stale, so it is theirs now.
  return stat === null ? null : { path, ino: stat.ino, birthtimeMs: stat.birthtimeMs }
}

/** `mkdir` once, never taking over: what follows a removal, as in proper-lockfile (`stale: 0`). */
const takeFresh = async (path: string): Promise<Held | null> => ((await mkdirOnce(path)) ? identify(path) : null)

const takeOnce = async (spec: Spec, staleMs: number, nowMs: number): Promise<Held | null> => {
  const { path } = spec
  if (await mkdirOnce(path)) return identify(path)
  const seen = await statOrNull(path)
  if (seen === null) return takeFresh(path)
  if (nowMs - seen.mtimeMs <= staleMs && !(spec.abandoned !== undefined && (await spec.abandoned(seen)))) return null
  const again = await statOrNull(path)
  if (again !== null) {
    const unchanged = again.ino === seen.ino && again.birthtimeMs === seen.birthtimeMs && again.mtimeMs === seen.mtimeMs
    if (!unchanged) return null
    await rmdir(path).catch(ignoreMissing)
  }
  return takeFresh(path)
}

// Tries are serialized within this process, which closes the one window the re-check leaves (a taker's
// removal landing after another taker's fresh `mkdir`) between callers here; across processes it stays
// as narrow as proper-lockfile's, which Claude Code lives with.
let tries: Promise<unknown> = Promise.resolve()

/**
 * One try at a lock: create it, or remove it and create it if it is stale
 * (its mtime more than `staleMs` before `nowMs`) or abandoned. `null` when
 * someone else holds it. Two takers racing for the same stale lock: each
 * re-checks that the directory is still the instance it judged stale just
 * before removing it, and after a removal only a plain `mkdir` follows, so
 * a taker that loses the race sees EEXIST instead of removing the winner's
 * lock. Rejects with the fs error for anything the protocol does not expect.
 *
 * @since 0.2.0
 */
export const tryTake = (spec: Spec, staleMs: number, nowMs: number = Date.now()): Promise<Held | null> => {
  const attempt = tries.then(() => takeOnce(spec, staleMs, nowMs))
  tries = attempt.catch(() => undefined)
  return attempt
}

/**
 * Refreshes the lock's mtime to `nowMs` if it is still our instance. `false`
 * means we lost it (someone took it over after judging it stale): stop
 * touching it. Rejects when the touch itself failed.
 *
 * @since 0.2.0
 */
export const touch = async (held: Held, nowMs: number = Date.now()): Promise<boolean> => {
  const stat = await statOrNull(held.path)
  if (stat === null || !isInstance(stat, held)) return false
  const at = new Date(nowMs)
  await utimes(held.path, at, at)
  return true
}

/**
 * What {@link release} found: our lock removed, nothing there, or another
 * holder's lock (ours was taken over), left alone.
 *
 * @since 0.2.0
 */
export type Released = "released" | "gone" | "taken-over"

/**
 * Removes the lock if it is still our instance. Rejects only when the
 * removal failed unexpectedly.
 *
 * @since 0.2.0
 */
export const release = async (held: Held): Promise<Released> => {
  const stat = await statOrNull(held.path)
  if (stat === null) return "gone"
  if (!isInstance(stat, held)) return "taken-over"
  await rmdir(held.path).catch(ignoreMissing)
  return "released"
}

/**
 * For a process that is ending (an exit handler, where nothing async runs):
 * runs `finish` and removes the lock if `held` is still our instance, and
 * answers as {@link release} does. A lock taken over by someone else is left
 * to them and `finish` is not run: what it would write is no longer ours to
 * write. Never throws for a missing lock; `finish`'s own errors propagate
 * after the lock is removed.
 *
 * @since 0.2.0
 */
export const finishAndReleaseSync = (held: Held, finish: () => void = () => {}): Released => {
  const stat = lstatSync(held.path, { throwIfNoEntry: false })
  if (stat === undefined) return "gone"
  if (!isInstance(stat, held)) return "taken-over"
  try {
    finish()
  } finally {
    try {
      rmdirSync(held.path)
    } catch (error) {
      ignoreMissing(error)
    }
  }
  return "released"
}

/**
 * For a process that is ending: takes the lock only if nobody holds it (a
 * plain `mkdir`, 0700, never a takeover: there is no time left to wait out a
 * stale one), runs `finish` holding it and removes it. `false`, with
 * `finish` not run, when someone holds it.
 *
 * @since 0.2.0
 */
export const withFreeLockSync = (path: string, finish: () => void): boolean => {
  if (!mkdirOnceSync(path)) return false
  try {
    finish()
  } finally {
    try {
      rmdirSync(path)
    } catch (error) {
      ignoreMissing(error)
    }
  }
  return true
}

/**
 * A lock was still held by someone else when the wait ran out.
 *
 * @since 0.2.0
 */
export class LockBusy extends Error {
  readonly _tag = "LockBusy"
  constructor(
    readonly path: string,
    readonly waitedMs: number
  ) {
    super(`${path} was held by another process for the whole ${(waitedMs / 1000).toFixed(1)} s wait`)
    this.name = "LockBusy"
  }
}

/**
 * How `acquire` and `withLock` wait, when they take over a stale lock, and how
 * often the holder heartbeats.
 *
 * @since 0.2.0
 */
export interface Options {
  /** A lock untouched for longer than this is taken over. Default 10 s. */
  readonly staleMs?: number | undefined
  /** How long to wait for a lock someone else holds before rejecting with {@link LockBusy}. Default 15 s. */
  readonly waitMs?: number | undefined
  /** The base interval between looks at a held lock, jittered by ±50%. Default 20 ms. */
  readonly retryMs?: number | undefined
  /** How often the holder refreshes the lock's mtime. Default a third of `staleMs`. */
  readonly heartbeatMs?: number | undefined
  /**
   * The owner record's path, `null` for none. Default `<path>.owner`. With
   * it, a lock whose recorded holder is gone is taken over at once.
   */
  readonly ownerFile?: string | null | undefined
}

/**
 * A lock this process holds (see {@link acquire}).
 *
 * @since 0.2.0
 */
export interface Lock {
  readonly held: Held
  /**
   * Stops the heartbeat, removes the lock if it is still ours, then our
   * owner record. Never rejects; a second call does nothing.
   */
  readonly release: () => Promise<void>
}

/**
 * Ten seconds untouched makes a lock stale (proper-lockfile's default); a live
 * holder's heartbeat keeps its lock far younger than that.
 *
 * @since 0.2.0
 */
export const DEFAULT_STALE_MS = 10_000

/** Fifteen seconds of waiting for a held lock before `acquire` gives up with {@link LockBusy}. @since 0.2.0 */
export const DEFAULT_WAIT_MS = 15_000

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Takes the lock directory `path`, waiting while someone else holds it:
 * creates it (0700), or takes it over at once when its owner record proves
 * the holder dead, or after `staleMs` when there is no such proof. Then
 * writes our owner record (which also sweeps the temp files of a holder
 * killed mid-record) and refreshes the lock's mtime every `heartbeatMs`
 * until released (the timer does not keep the process alive). The parent
 * directory must exist.
 *
 * A holder killed at any point leaves at most a lock that the next taker
 * takes over: at once once its record is written, after `staleMs` in the
 * few syscalls between `mkdir` and the record.
 *
 * @since 0.2.0
 */
export const acquire = async (path: string, options: Options = {}): Promise<Lock> => {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS
  const retryMs = options.retryMs ?? 20
  const ownerFile = ownerFileOf(path, options)
  const spec: Spec = { path, ...(ownerFile !== null ? { abandoned: LockOwner.abandoned(ownerFile) } : {}) }
  const started = Date.now()
  let held: Held | null
  for (;;) {
    held = await tryTake(spec, staleMs)
    if (held !== null) break
    const now = Date.now()
    if (now - started >= waitMs) throw new LockBusy(path, now - started)
    await sleep(Math.max(1, Math.min(Math.round(retryMs * (0.5 + Math.random())), started + waitMs - now)))
  }
  const { lock, recordOwner } = hold(held, staleMs, options)
  await recordOwner()
  return lock
}

/**
 * A lock taken by {@link takeFreeSync}: held, its heartbeat running, its
 * owner record still to write.
 *
 * @since 0.2.0
 */
export interface FreshLock extends Lock {
  /** Writes our owner record, so a holder killed from here on is taken over at once. Never rejects. */
  readonly recordOwner: () => Promise<void>
}

/**
 * Takes the lock directory `path` only if nobody holds it, synchronously (a
 * plain `mkdir`, 0700, never a takeover): for a caller that registers the
 * lock for its exit handling and must know it holds it before any other code
 * runs — with an asynchronous `mkdir` a `process.exit` can fall between the
 * lock's creation and its holder knowing, leaving a lock with no owner record
 * that delays the next taker by the staleness. The heartbeat runs at once;
 * the owner record is written by `recordOwner`. `null` when the directory is
 * there (held, stale or abandoned: {@link acquire} deals with those).
 *
 * @since 0.2.0
 */
export const takeFreeSync = (path: string, options: Options = {}): FreshLock | null => {
  if (!mkdirOnceSync(path)) return null
  const stat = lstatSync(path, { throwIfNoEntry: false })
  // Removed the instant after we made it: someone judged it stale, so it is theirs now.
  if (stat === undefined) return null
  const { lock, recordOwner } = hold(
    { path, ino: stat.ino, birthtimeMs: stat.birthtimeMs },
    options.staleMs ?? DEFAULT_STALE_MS,
    options
  )
  return { ...lock, recordOwner }
}

// A lock we have just taken: its heartbeat started, its release ready, and its owner record to write.
const hold = (
  lock: Held,
  staleMs: number,
  options: Options
): { readonly lock: Lock; readonly recordOwner: () => Promise<void> } => {
  const ownerFile = ownerFileOf(lock.path, options)
  // Without birth times (some file systems) a record could not name the instance; Claude Code writes none either.
  const recorded = ownerFile !== null && lock.birthtimeMs > 0
  let beating = true
  const timer = setInterval(
    () => {
      touch(lock).then(
        (still) => {
          if (!still) stop()
        },
        // A failed touch is retried on the next beat; the lock only goes stale after several misses.
        () => {}
      )
    },
    options.heartbeatMs ?? Math.max(1, Math.floor(staleMs / 3))
  )
  timer.unref()
  const stop = () => {
    beating = false
    clearInterval(timer)
  }
  let released: Promise<void> | null = null
  return {
    lock: {
      held: lock,
      release: () =>
        (released ??= (async () => {
          if (beating) stop()
          // The lock goes first: a holder killed between the two leaves a record naming a gone
          // instance (harmless, replaced by the next holder), never a lock without a record.
          await release(lock).catch(() => {})
          if (recorded) await LockOwner.removeIfOurs(ownerFile, lock.birthtimeMs).catch(() => {})
        })())
    },
    recordOwner: () =>
      recorded ? LockOwner.write(ownerFile, LockOwner.recordFor(lock.birthtimeMs)).catch(() => {}) : Promise.resolve()
  }
}

/**
 * Runs `f` holding the lock directory `path` ({@link acquire}), releasing it
 * however `f` ends.
 *
 * @since 0.2.0
 */
export const withLock = async <A>(path: string, f: (lock: Lock) => Promise<A>, options: Options = {}): Promise<A> => {
  const lock = await acquire(path, options)
  try {
    return await f(lock)
  } finally {
    await lock.release()
  }
}
