/**
 * The account-state file on disk: its shape, lenient decoding, and reading
 * and writing it (asynchronously on the request path, synchronously for a
 * process that is ending).
 */
import * as Backoff from "@tollgate/core/Backoff"
import { AtomicFile, PrivateDirectory, SafeRead } from "@tollgate/files"
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs"
import { dirname } from "node:path"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** What this process and its peers last learned about one account, by its key. */
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

/** The whole file: every account's state and core's backoff state, shared by every process. */
export interface StoreFile {
  readonly version: 1
  readonly accounts: Readonly<Record<string, AccountState>>
  readonly backoff: Backoff.State
}

const decodeEntry = Schema.decodeUnknownOption(Backoff.Entry)

/** The state of a file that is missing or unreadable. */
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

/** Leniently decodes parsed JSON: a malformed entry is dropped, not the whole file (a wrong version is). */
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

/** {@link readFile}, synchronously, for a process that is ending. */
export const readFileSync = (path: string): StoreFile => {
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
export const writeFileSync = (path: string, file: StoreFile): void =>
  AtomicFile.writeSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, durable: false })
