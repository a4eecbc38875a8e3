/**
 * The account-state file: its shape, lenient decoding, merging, re-keying,
 * atomic writes and the cross-process lock (`@tollgate/files`' LockDir: a
 * directory next to the file with an owner record; taken over at once when
 * its holder is provably dead, after `STALE_LOCK_MS` otherwise).
 */
import type * as Backoff from "@tollgate/core/Backoff"
import { AtomicFile, LockDir, LockOwner, PrivateDirectory, SafeRead } from "@tollgate/files"
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from "node:fs"
import { basename, dirname, join } from "node:path"

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

const decodeBackoffEntry = (u: unknown): Backoff.Entry | null => {
  if (!isObject(u) || typeof u["failures"] !== "number") return null
  return {
    failures: u["failures"],
    until: num(u["until"]),
    blockedFingerprint: str(u["blockedFingerprint"]),
    verdict: str(u["verdict"])
  } as Backoff.Entry
}

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
  await AtomicFile.write(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600, durable: false })
}

/** The lock timings; tests shorten them. */
export type LockOptions = Pick<LockDir.Options, "staleMs" | "waitMs" | "retryMs" | "heartbeatMs">

// The locks this process holds, by the state file they guard: released synchronously when
// the process ends while holding one (opencode's `process.exit` after a run, a SIGTERM).
const holding = new Map<LockDir.Lock, string>()

const quietly = (f: () => void): void => {
  try {
    f()
  } catch {
    // Best effort: whatever is left is taken over (owner record) or swept by the next holder.
  }
}

const TEMP_NAME = /^[0-9a-f]{16}\.tmp$/

/** Removes AtomicFile temp files of `target` (as `AtomicFile.sweepTemps`, synchronously). */
const sweepTempsSync = (target: string): void => {
  const prefix = `.${basename(target)}.`
  for (const name of readdirSync(dirname(target))) {
    if (name.startsWith(prefix) && TEMP_NAME.test(name.slice(prefix.length))) quietly(() => unlinkSync(join(dirname(target), name)))
  }
}

/**
 * `LockDir`'s release, synchronously, for a process that is ending: while
 * the lock is still our instance, our temp files (an unfinished write, an
 * unfinished owner record) go first, then the lock, then our owner record.
 */
const releaseSync = (lock: LockDir.Lock, path: string): void => {
  const { held } = lock
  const owner = `${held.path}.owner`
  const stat = lstatSync(held.path, { throwIfNoEntry: false })
  if (stat?.isDirectory() === true && stat.ino === held.ino && stat.birthtimeMs === held.birthtimeMs) {
    quietly(() => sweepTempsSync(path))
    quietly(() => sweepTempsSync(owner))
    quietly(() => rmdirSync(held.path))
  }
  quietly(() => {
    const record = LockOwner.parse(readFileSync(owner, "utf8").slice(0, LockOwner.MAX_BYTES))
    if (record !== null && record.pid === process.pid && record.lockBirthtimeMs === held.birthtimeMs) unlinkSync(owner)
  })
}

const releaseAllSync = (): void => {
  for (const [lock, path] of holding) quietly(() => releaseSync(lock, path))
  holding.clear()
}

// Takes of the lock still under way: the lock may already be made, this process not yet told.
const acquiring = new Set<Promise<unknown>>()
let terminating = false
/** How long a SIGTERM waits for a take under way to finish (and be released) before it ends the process. */
const TERM_WAIT_MS = 1_000

const detach = (): void => {
  process.removeListener("exit", releaseAllSync)
  process.removeListener("SIGTERM", onSigterm)
}

// A SIGTERM with no other listener ends the process (the default). Ours releases what this
// process holds, lets a take under way finish and releases that too, then raises it again
// without us so that the default happens.
function onSigterm(): void {
  releaseAllSync()
  if (terminating) return
  terminating = true
  const end = () => {
    releaseAllSync()
    detach()
    if (process.listenerCount("SIGTERM") === 0) process.kill(process.pid, "SIGTERM")
  }
  if (acquiring.size === 0) return end()
  const timer = setTimeout(end, TERM_WAIT_MS)
  void Promise.allSettled([...acquiring]).then(() => {
    clearTimeout(timer)
    end()
  })
}

const attach = (): void => {
  if (holding.size > 0 || acquiring.size > 0) return
  process.on("exit", releaseAllSync)
  process.on("SIGTERM", onSigterm)
}

const settle = (): void => {
  if (holding.size === 0 && acquiring.size === 0 && !terminating) detach()
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
 * removes the temp files of writers killed before their rename. A process
 * that exits or gets SIGTERM while holding it releases it (and removes its
 * unfinished temp file) on the way out; `f`'s write is then lost, never
 * half-done. (A `process.exit` in the few syscalls between the lock's
 * `mkdir` and the take's return leaves a lock without a record: taken over
 * after `STALE_LOCK_MS`.)
 */
export const withLock = async <A>(path: string, f: () => Promise<A>, options: LockOptions = {}): Promise<A> => {
  if (terminating) throw new Terminating(path)
  await PrivateDirectory.ensure(dirname(path))
  attach()
  const lockOptions = { staleMs: STALE_LOCK_MS, waitMs: LOCK_WAIT_MS, ...options }
  // A free lock is taken synchronously, so this process knows it holds it before anything else runs.
  const fast = takeFreeSync(`${path}.lock`, lockOptions)
  let lock: LockDir.Lock
  if (fast !== null) lock = fast
  else {
    const taking = LockDir.acquire(`${path}.lock`, lockOptions)
    acquiring.add(taking)
    try {
      lock = await taking
    } catch (error) {
      acquiring.delete(taking)
      settle()
      throw error
    }
    acquiring.delete(taking)
  }
  if (terminating) {
    await lock.release()
    throw new Terminating(path)
  }
  holding.set(lock, path)
  try {
    if (fast !== null) await fastRecord(lock)
    await AtomicFile.sweepTemps(path)
    return await f()
  } finally {
    await lock.release()
    holding.delete(lock)
    settle()
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
    Object.entries(file.accounts).filter(([, a]) => a.updatedAt >= horizon || (a.skipUntil !== null && a.skipUntil > now))
  )
  const backoff = Object.fromEntries(Object.entries(file.backoff).filter(([, e]) => e.until === null || e.until >= horizon))
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
