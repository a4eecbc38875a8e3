/**
 * The cross-process lock on the account-state file (`@tollgate/files`'
 * LockDir: a directory next to the file with an owner record; taken over at
 * once when its holder is provably dead, after `STALE_LOCK_MS` otherwise),
 * and the exit handling that finishes a change under way when the process
 * ends (`process.exit`, SIGTERM) instead of losing it.
 */
import { AtomicFile, LockDir, LockOwner, PrivateDirectory } from "@tollgate/files"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { readFileSync, type StoreFile, writeFileSync } from "./accountStateFile.js"

/** A lock without a record proving its holder dead is taken over once untouched this long. */
export const STALE_LOCK_MS = 10_000
const LOCK_WAIT_MS = 15_000

/** The lock timings; tests shorten them. */
export type LockOptions = Pick<LockDir.Options, "staleMs" | "waitMs" | "retryMs" | "heartbeatMs">

const quietly = (f: () => void): void => {
  try {
    f()
  } catch {
    // Best effort: whatever is left is taken over (owner record) or swept by the next holder.
  }
}

/**
 * A change to the file, as a pure function of its current contents (`null`:
 * nothing to write). What {@link withLock} runs at exit, synchronously.
 */
export type Change = (file: StoreFile) => StoreFile | null

/** Applies `change` to the file and writes it, synchronously; the caller holds the lock. */
const applySync = (path: string, change: Change): void => {
  const next = change(readFileSync(path))
  if (next !== null) writeFileSync(path, next)
}

// Every change under way in this process, by the state file it is for; `lock` once it is taken.
interface Pending {
  readonly path: string
  readonly change: Change | undefined
  lock: LockDir.Lock | null
  done: boolean
}
const pending = new Set<Pending>()

/**
 * For a process that is ending (`process.exit`, SIGTERM), synchronously:
 * a change holding its lock is finished, then its temp files (the write it
 * was doing, an unfinished owner record) removed, then the lock, then our
 * owner record, as `LockDir`'s release does. A change still waiting for its
 * lock takes it if it is free (a synchronous `mkdir`: certainly ours), is
 * finished and releases it; a lock someone holds is left to them and the
 * change is lost.
 */
const finishSync = (entry: Pending): void => {
  const lockPath = `${entry.path}.lock`
  const finish = () => {
    if (entry.change !== undefined && !entry.done) quietly(() => applySync(entry.path, entry.change!))
    entry.done = true
    quietly(() => AtomicFile.sweepTempsSync(entry.path))
    quietly(() => AtomicFile.sweepTempsSync(`${lockPath}.owner`))
  }
  const { lock } = entry
  if (lock === null) {
    if (entry.change === undefined || entry.done) return
    mkdirSync(dirname(entry.path), { recursive: true, mode: 0o700 })
    LockDir.withFreeLockSync(lockPath, finish)
    return
  }
  LockDir.finishAndReleaseSync(lock.held, finish)
  LockOwner.removeIfOursSync(`${lockPath}.owner`, lock.held.birthtimeMs)
}

const finishAllSync = (): void => {
  for (const entry of pending) quietly(() => finishSync(entry))
  pending.clear()
}

// Takes of the lock still under way: the lock may already be made, this process not yet told.
const acquiring = new Set<Promise<unknown>>()
let terminating = false
/** How long a SIGTERM waits for a take under way to finish (and be released) before it ends the process. */
const TERM_WAIT_MS = 1_000

const detach = (): void => {
  process.removeListener("exit", finishAllSync)
  process.removeListener("SIGTERM", onSigterm)
}

// A SIGTERM with no other listener ends the process (the default). Ours finishes and releases
// what this process holds, lets a take under way end and releases that too, then raises the
// signal again without us so that the default happens.
function onSigterm(): void {
  finishAllSync()
  if (terminating) return
  terminating = true
  const end = () => {
    finishAllSync()
    detach()
    if (process.listenerCount("SIGTERM") === 0) process.kill(process.pid, "SIGTERM")
  }
  if (acquiring.size === 0) {
    end()
    return
  }
  const timer = setTimeout(end, TERM_WAIT_MS)
  void Promise.allSettled([...acquiring]).then(() => {
    clearTimeout(timer)
    end()
  })
}

/** A SIGTERM arrived: this process is ending and takes no lock any more. */
export class Terminating extends Error {
  readonly _tag = "Terminating"
  constructor(readonly path: string) {
    super(`${path}: not written, the process is ending (SIGTERM)`)
    this.name = "Terminating"
  }
}

/**
 * Runs `f` holding `<path>.lock` (`@tollgate/files`' LockDir, owner record
 * `<path>.lock.owner`): a lock whose recorded holder is gone is taken at
 * once, one without a record after `STALE_LOCK_MS`. Holding it, first
 * removes the temp files of writers killed before their rename.
 *
 * A process that ends while this runs (`process.exit`, e.g. opencode right
 * after `opencode run` answered, or SIGTERM) does `change` (what `f` does,
 * as a pure function) synchronously on the way out, under the lock, and
 * leaves no lock, owner record or temp file: a write started and not
 * awaited is not lost. Only a SIGKILL (or a lock another process holds at
 * exit) loses it; the lock left by a SIGKILL is taken over at once by its
 * owner record, and its temp file swept by the next writer.
 */
export const withLock = async <A>(
  path: string,
  f: () => Promise<A>,
  options: LockOptions = {},
  change?: Change
): Promise<A> => {
  if (terminating) throw new Terminating(path)
  const entry: Pending = { path, change, lock: null, done: false }
  if (pending.size === 0 && acquiring.size === 0) {
    process.on("exit", finishAllSync)
    process.on("SIGTERM", onSigterm)
  }
  pending.add(entry)
  try {
    await PrivateDirectory.ensure(dirname(path))
    if (entry.done) throw new Terminating(path)
    const lockOptions = { staleMs: STALE_LOCK_MS, waitMs: LOCK_WAIT_MS, ...options }
    // A free lock is taken synchronously, so this process knows it holds it before anything else runs.
    const fast = LockDir.takeFreeSync(`${path}.lock`, lockOptions)
    if (fast !== null) entry.lock = fast
    else {
      const taking = LockDir.acquire(`${path}.lock`, lockOptions)
      acquiring.add(taking)
      try {
        entry.lock = await taking
      } finally {
        acquiring.delete(taking)
      }
    }
    const lock = entry.lock
    try {
      if (terminating || entry.done) throw new Terminating(path)
      if (fast !== null) await fast.recordOwner()
      await AtomicFile.sweepTemps(path)
      const result = await f()
      entry.done = true
      return result
    } finally {
      await lock.release()
    }
  } finally {
    pending.delete(entry)
    if (pending.size === 0 && acquiring.size === 0 && !terminating) detach()
  }
}
