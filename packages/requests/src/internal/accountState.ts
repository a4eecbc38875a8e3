/**
 * The account-state file: its shape, lenient decoding, merging, re-keying,
 * atomic writes and the cross-process lock (`@tollgate/files`' LockDir: a
 * directory next to the file with an owner record; taken over at once when
 * its holder is provably dead, after `STALE_LOCK_MS` otherwise).
 */
import * as Backoff from "@tollgate/core/Backoff"
import { AtomicFile, LockDir, LockOwner, PrivateDirectory, SafeRead } from "@tollgate/files"
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync } from "node:fs"
import { dirname } from "node:path"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

export interface AccountState {
  /** Last classification tag (`"Ok"`, `"RateLimited"`, …) or `null`. */
  readonly verdict: string | null
  /** Epoch ms before which the account is skipped; `null` when it is not. */
  readonly skipUntil: number | null
  /** Fingerprint of the credential a blocking verdict applies to. */
  readonly blockedFingerprint: string | null
  /** Utilization 0..1 from the unified headers. */
  readonly fiveHour: number | null
  readonly sevenDay: number | null
  /** Epoch ms the unified headers gave for the reset. */
  readonly resetsAt: number | null
  readonly updatedAt: number
}

export interface StoreFile {
  readonly version: 1
  readonly accounts: Readonly<Record<string, AccountState>>
  readonly backoff: Backoff.State
}

/** A lock without a record proving its holder dead is taken over once untouched this long. */
export const STALE_LOCK_MS = 10_000
const LOCK_WAIT_MS = 15_000
/** An account entry no one has written for this long (and not skipped) is dropped: e.g. a retired key. */
export const RETAIN_MS = 30 * 24 * 60 * 60_000
/** JSON has no Infinity; "for good" is stored as this. */
export const FOREVER = Number.MAX_SAFE_INTEGER

const decodeEntry = Schema.decodeUnknownOption(Backoff.Entry)

export const empty = (): StoreFile => ({ version: 1, accounts: {}, backoff: {} })

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const num = (u: unknown): number | null => (typeof u === "number" && Number.isFinite(u) ? u : null)
const str = (u: unknown): string | null => (typeof u === "string" ? u : null)

const decodeAccount = (u: unknown): AccountState | null =>
  isObject(u)
    ? {
        verdict: str(u["verdict"]),
        skipUntil: num(u["skipUntil"]),
        blockedFingerprint: str(u["blockedFingerprint"]),
        fiveHour: num(u["fiveHour"]),
        sevenDay: num(u["sevenDay"]),
        resetsAt: num(u["resetsAt"]),
        updatedAt: num(u["updatedAt"]) ?? 0
      }
    : null

// Core's own schema: an entry it would not decode is dropped, the rest of the file kept.
const decodeBackoffEntry = (u: unknown): Backoff.Entry | null => Option.getOrNull(decodeEntry(u))

export const decode = (u: unknown): StoreFile => {
  if (!isObject(u) || u["version"] !== 1) return empty()
  const accounts: Record<string, AccountState> = {}
  if (isObject(u["accounts"])) {
    for (const [k, v] of Object.entries(u["accounts"])) {
      const a = decodeAccount(v)
      if (a) accounts[k] = a
    }
  }
  const backoff: Record<string, Backoff.Entry> = {}
  if (isObject(u["backoff"])) {
    for (const [k, v] of Object.entries(u["backoff"])) {
      const e = decodeBackoffEntry(v)
      if (e) backoff[k] = e
    }
  }
  return { version: 1, accounts, backoff }
}

/** The largest account-state file read; a few accounts take a few KB. */
export const MAX_BYTES = 1024 * 1024

/**
 * The file's state; missing, unreadable, not JSON, or not a regular file of
 * ours within `MAX_BYTES` (a FIFO, a device, a symlink: the next write
 * replaces it) is an empty state.
 */
export const readFile = async (path: string): Promise<StoreFile> => {
  try {
    const text = await SafeRead.readText(path, { maxBytes: MAX_BYTES, mustBeOurs: true })
    return text === null ? empty() : decode(JSON.parse(text))
  } catch {
    return empty()
  }
}

/**
 * Writes with `@tollgate/files`: the directory created 0700 (or checked to
 * be ours and not a symlink), then an atomic 0600 replace under a random
 * `O_EXCL|O_NOFOLLOW` temp name. Not fsync'd: it is rewritten on the
 * request path, and a crash losing the last verdict costs one retry.
 */
export const writeFile = async (path: string, file: StoreFile): Promise<void> => {
  await PrivateDirectory.ensure(dirname(path))
  await AtomicFile.write(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, durable: false })
}

/** The lock timings; tests shorten them. */
export type LockOptions = Pick<LockDir.Options, "staleMs" | "waitMs" | "retryMs" | "heartbeatMs">

const quietly = (f: () => void): void => {
  try {
    f()
  } catch {
    // Best effort: whatever is left is taken over (owner record) or swept by the next holder.
  }
}

/** {@link readFile}, synchronously, for a process that is ending. */
const readFileSync = (path: string): StoreFile => {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    try {
      const stat = fstatSync(fd)
      const ours = process.getuid === undefined || stat.uid === process.getuid()
      if (!stat.isFile() || !ours || stat.size > MAX_BYTES) return empty()
      const buffer = Buffer.alloc(stat.size)
      let read = 0
      for (let n = -1; n !== 0 && read < stat.size; read += n) n = readSync(fd, buffer, read, stat.size - read, read)
      return decode(JSON.parse(buffer.toString("utf8", 0, read)))
    } finally {
      closeSync(fd)
    }
  } catch {
    return empty()
  }
}

/** {@link writeFile}, synchronously. */
const writeFileSync = (path: string, file: StoreFile): void =>
  AtomicFile.writeSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, durable: false })

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
    const fast = takeFreeSync(`${path}.lock`, lockOptions)
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
      if (fast !== null) await fastRecord(fast)
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

// The owner records of locks taken by `takeFreeSync`, written once the lock is registered.
const pendingRecords = new WeakMap<LockDir.Lock, () => Promise<void>>()
const fastRecord = (lock: LockDir.Lock): Promise<void> => pendingRecords.get(lock)?.() ?? Promise.resolve()

/**
 * `LockDir.acquire` when the lock is free, with the `mkdir` synchronous: a
 * `process.exit` can never fall between the lock's creation and this process
 * knowing it holds it (with an asynchronous `mkdir` it can, and the lock is
 * left without an owner record, delaying the next writer by the staleness).
 * The owner record, heartbeat and release are LockDir's and LockOwner's.
 * `null` when the lock is there (held, stale or abandoned): `acquire` deals
 * with it.
 */
const takeFreeSync = (path: string, options: LockDir.Options): LockDir.Lock | null => {
  try {
    mkdirSync(path, { mode: 0o700 })
  } catch {
    return null
  }
  const stat = lstatSync(path, { throwIfNoEntry: false })
  // Removed the instant after we made it: someone judged it stale; `acquire` waits its turn.
  if (stat === undefined) return null
  const held: LockDir.Held = { path, ino: stat.ino, birthtimeMs: stat.birthtimeMs }
  const ownerFile = `${path}.owner`
  const recorded = held.birthtimeMs > 0
  const staleMs = options.staleMs ?? LockDir.DEFAULT_STALE_MS
  const timer = setInterval(
    () => {
      LockDir.touch(held).then(
        (still) => {
          if (!still) clearInterval(timer)
        },
        () => {}
      )
    },
    options.heartbeatMs ?? Math.max(1, Math.floor(staleMs / 3))
  )
  timer.unref()
  let released: Promise<void> | null = null
  const lock: LockDir.Lock = {
    held,
    release: () =>
      (released ??= (async () => {
        clearInterval(timer)
        await LockDir.release(held).catch(() => {})
        if (recorded) await LockOwner.removeIfOurs(ownerFile, held.birthtimeMs).catch(() => {})
      })())
  }
  pendingRecords.set(lock, () =>
    recorded ? LockOwner.write(ownerFile, LockOwner.recordFor(held.birthtimeMs)).catch(() => {}) : Promise.resolve()
  )
  return lock
}

/**
 * The key for an account's identity, one that survives a refresh (unlike a
 * refresh token's fingerprint): `oauth:id:<account uuid>`, `claude-code:id:<config dir>`.
 */
export const identityKey = (kind: string, id: string): string => `${kind}:id:${id}`

/** Drops account entries untouched for `RETAIN_MS` that skip nothing, and backoff that ended as long ago. */
export const prune = (file: StoreFile, now: number): StoreFile => {
  const horizon = now - RETAIN_MS
  const accounts = Object.fromEntries(
    Object.entries(file.accounts).filter(
      ([, a]) => a.updatedAt >= horizon || (a.skipUntil !== null && a.skipUntil > now)
    )
  )
  const backoff = Object.fromEntries(
    Object.entries(file.backoff).filter(([, e]) => e.until === null || e.until >= horizon)
  )
  return { ...file, accounts, backoff }
}

/**
 * Moves the state kept under `from` (an old key, e.g. a refresh token's
 * fingerprint) to `to`: the account entry unless `to` has a newer one, and
 * every backoff entry of `from` (`"<endpoint> <key>"`) unless `to`'s holds
 * longer. `from` is gone afterwards.
 */
export const rekey = (file: StoreFile, from: string, to: string): StoreFile => {
  if (from === to) return file
  const accounts: Record<string, AccountState> = { ...file.accounts }
  const old = accounts[from]
  delete accounts[from]
  if (old !== undefined && (accounts[to] === undefined || accounts[to].updatedAt < old.updatedAt)) accounts[to] = old
  const backoff: Record<string, Backoff.Entry> = {}
  const moved: Record<string, Backoff.Entry> = {}
  const suffix = ` ${from}`
  for (const [k, entry] of Object.entries(file.backoff)) {
    if (k.endsWith(suffix)) moved[`${k.slice(0, -suffix.length)} ${to}`] = entry
    else backoff[k] = entry
  }
  return mergeBackoff({ ...file, accounts, backoff }, moved)
}

export const mergeAccount = (
  file: StoreFile,
  key: string,
  patch: Partial<Omit<AccountState, "updatedAt">>,
  now: number
): StoreFile => {
  const previous: AccountState = file.accounts[key] ?? {
    verdict: null,
    skipUntil: null,
    blockedFingerprint: null,
    fiveHour: null,
    sevenDay: null,
    resetsAt: null,
    updatedAt: 0
  }
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
  const merged: AccountState = { ...previous, ...defined, updatedAt: now }
  const skipUntil =
    merged.skipUntil === null ? null : merged.skipUntil === Number.POSITIVE_INFINITY ? FOREVER : merged.skipUntil
  return { ...file, accounts: { ...file.accounts, [key]: { ...merged, skipUntil } } }
}

export const mergeBackoff = (file: StoreFile, state: Backoff.State): StoreFile => {
  const backoff: Record<string, Backoff.Entry> = { ...file.backoff }
  for (const [k, entry] of Object.entries(state)) {
    const old = backoff[k]
    if (old === undefined || (entry.until ?? 0) >= (old.until ?? 0)) backoff[k] = entry
  }
  return { ...file, backoff }
}
