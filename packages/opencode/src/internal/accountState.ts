/**
 * The account-state file: its shape, lenient decoding, merging, atomic writes
 * and the cross-process lock (a directory next to the file; taken over when
 * older than `STALE_LOCK_MS`).
 */
import type * as Backoff from "@tollgate/core/Backoff"
import { randomBytes } from "node:crypto"
import { AtomicFile, PrivateDirectory, SafeRead } from "@tollgate/files"
import { mkdir, rename, rm, stat } from "node:fs/promises"
import { dirname } from "node:path"

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

export const STALE_LOCK_MS = 10_000
const LOCK_WAIT_MS = 15_000
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Runs `f` holding `<path>.lock` (a directory); a lock older than 10 s is taken over. */
export const withLock = async <A>(path: string, f: () => Promise<A>): Promise<A> => {
  await PrivateDirectory.ensure(dirname(path))
  const lock = `${path}.lock`
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      await mkdir(lock, { mode: 0o700 })
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      try {
        const s = await stat(lock)
        if (Date.now() - s.mtimeMs > STALE_LOCK_MS) {
          // Stale: its holder died. Rename first so only one waiter takes it over.
          const aside = `${lock}.stale.${process.pid}.${randomBytes(4).toString("hex")}`
          await rename(lock, aside).then(() => rm(aside, { recursive: true, force: true }), () => undefined)
          continue
        }
      } catch {
        continue
      }
      if (Date.now() > deadline) throw new Error(`tollgate: could not lock ${path}`)
      await sleep(5 + Math.random() * 15)
    }
  }
  try {
    return await f()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
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
