/**
 * Owner records: a small JSON file beside a lock directory naming the
 * process that holds it and the lock instance it holds (the directory's
 * birth time), in the format Claude Code 2.1.330 writes for
 * `.oauth_refresh.lock.owner`: `{pid, procStart?, pidDomain, pidSpace,
 * lockBirthtimeMs}`. With a record, a lock left by a killed holder is taken
 * over at once ({@link abandoned}) instead of after its staleness.
 *
 * A record is only a hint: the lock is just as valid without one, and one
 * that fails to parse or names another instance proves nothing.
 *
 * @since 0.2.0
 */
import { closeSync, constants, openSync, readSync, unlinkSync } from "node:fs"
import { open, unlink } from "node:fs/promises"
import { write as writeAtomic, sweepTemps } from "./AtomicFile.js"
import { errorCode } from "./internal/stats.js"
import * as ProcessIdentity from "./ProcessIdentity.js"

/**
 * An owner record, field for field in Claude Code's order.
 *
 * @since 0.2.0
 */
export interface OwnerRecord extends ProcessIdentity.Process {
  /** The birth time of the lock directory instance the process holds. */
  readonly lockBirthtimeMs: number
}

/**
 * Claude Code reads at most this much of a record.
 *
 * @since 0.2.0
 */
export const MAX_BYTES = 4096

/**
 * The record for a lock instance this process holds.
 *
 * @since 0.2.0
 */
export const recordFor = (lockBirthtimeMs: number): OwnerRecord => ({ ...ProcessIdentity.self(), lockBirthtimeMs })

/**
 * Writes `record` to `file` atomically (a random `O_EXCL|O_NOFOLLOW` temp
 * file renamed over it; mode 0644 by default, as Claude Code's), not fsync'd:
 * it names a lock that dies with this process. First removes the temp files a
 * holder killed mid-record left: only the lock's holder writes its record, so
 * every one there is a dead writer's. Rejects as the write did; callers
 * usually go on without a record.
 *
 * @since 0.2.0
 */
export const write = async (file: string, record: object, options: { readonly mode?: number } = {}): Promise<void> => {
  await writeAtomic(file, JSON.stringify(record), { mode: options.mode ?? 0o644, durable: false })
  await sweepTemps(file)
}

/**
 * The record's first {@link MAX_BYTES} as text, or `null` when there is no
 * record or it cannot be read (a symlink is never followed, a FIFO never
 * blocks).
 *
 * @since 0.2.0
 */
export const readText = async (file: string): Promise<string | null> => {
  try {
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    try {
      const buffer = Buffer.alloc(MAX_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, MAX_BYTES, 0)
      return buffer.toString("utf8", 0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch {
    return null
  }
}

const isObject = (u: unknown): u is { readonly [key: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const boundedString = (u: unknown, max: number): u is string => typeof u === "string" && u.length <= max

const positive = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u) && u > 0

/**
 * The record in `text` as Claude Code's schema accepts it (an integer pid,
 * `procStart` a string of at most 64, `pidDomain`/`pidSpace` strings of at
 * most 512, a positive `lockBirthtimeMs`; other fields kept as they are), or
 * `null`.
 *
 * @since 0.2.0
 */
export const parse = (text: string): (OwnerRecord & { readonly [key: string]: unknown }) | null => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (!isObject(value) || !Number.isInteger(value["pid"])) return null
  if (value["procStart"] !== undefined && !boundedString(value["procStart"], 64)) return null
  if (!boundedString(value["pidDomain"], 512) || !boundedString(value["pidSpace"], 512)) return null
  if (!positive(value["lockBirthtimeMs"])) return null
  return value as OwnerRecord & { readonly [key: string]: unknown }
}

/**
 * Removes `file` only if it is the record this process wrote for the lock
 * instance born at `lockBirthtimeMs` (the two fields Claude Code checks), so a
 * successor's record is never removed. Rejects only on an unexpected error.
 *
 * @since 0.2.0
 */
export const removeIfOurs = async (file: string, lockBirthtimeMs: number): Promise<void> => {
  const text = await readText(file)
  const record = text === null ? null : parse(text)
  if (record === null || record.pid !== process.pid || record.lockBirthtimeMs !== lockBirthtimeMs) return
  await unlink(file).catch((error: unknown) => {
    if (errorCode(error) !== "ENOENT") throw error
  })
}

/**
 * {@link removeIfOurs}, synchronously, for an exit handler. Never throws.
 *
 * @since 0.2.0
 */
export const removeIfOursSync = (file: string, lockBirthtimeMs: number): void => {
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    let text: string
    try {
      const buffer = Buffer.alloc(MAX_BYTES)
      text = buffer.toString("utf8", 0, readSync(fd, buffer, 0, MAX_BYTES, 0))
    } finally {
      closeSync(fd)
    }
    const record = parse(text)
    if (record !== null && record.pid === process.pid && record.lockBirthtimeMs === lockBirthtimeMs) unlinkSync(file)
  } catch {
    // No record, unreadable, or already gone: nothing of ours to remove.
  }
}

/**
 * For a caller with its own schema for the same record format: which field
 * holds the instance's birth time, and a stricter parser.
 *
 * @since 0.2.0
 */
export interface AbandonedOptions {
  /** The record field holding the instance's birth time. Default `lockBirthtimeMs`. */
  readonly field?: string | undefined
  /** A stricter parser (another schema for the same format). Default {@link parse}. */
  readonly parse?: ((text: string) => OwnerRecord | null) | undefined
}

/**
 * A check for `LockDir`: whether the lock instance `seen` was left by a
 * process that provably no longer runs — the record in `file` names that very
 * instance (its birth time in `field`) and a process
 * {@link ProcessIdentity.alive} says is gone. Claude Code makes the same check
 * before it takes a lock over early. Never rejects.
 *
 * @since 0.2.0
 */
export const abandoned =
  (file: string, options: AbandonedOptions = {}) =>
  async (seen: { readonly birthtimeMs: number }): Promise<boolean> => {
    const text = await readText(file)
    const record = text === null ? null : (options.parse ?? parse)(text)
    if (record === null || seen.birthtimeMs <= 0) return false
    const field = options.field ?? "lockBirthtimeMs"
    return (
      (record as OwnerRecord & { readonly [key: string]: unknown })[field] === seen.birthtimeMs &&
      ProcessIdentity.alive(record) === false
    )
  }
