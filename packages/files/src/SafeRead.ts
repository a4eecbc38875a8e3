/**
 * Reading a small state file without trusting what is at its path: opened
 * with `O_NOFOLLOW|O_NONBLOCK` (a symlink is refused, a FIFO never blocks the
 * open), checked with `fstat` on the open descriptor (so what is checked is
 * what is read), refused unless it is a regular file within `maxBytes`, and
 * never read past that cap. A FIFO or `/dev/zero` planted as `daemon.json`
 * is an {@link UnsafePath}, not a hang or an ever-growing buffer.
 *
 * @since 0.1.0
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs"
import { type FileHandle, open } from "node:fs/promises"
import { assertOurs, errorCode, kindOf } from "./internal/stats.js"
import { UnsafePath } from "./UnsafePath.js"

/** The size cap every read needs, and whether the file must also belong to this user. @since 0.1.0 */
export interface ReadOptions {
  /** Larger files are refused (`too_large`); at most this many bytes (plus one, to tell) are ever read. */
  readonly maxBytes: number
  /** Also refuse a file another uid owns (`foreign_owner`). Default `false`. */
  readonly mustBeOurs?: boolean | undefined
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

// ELOOP is what O_NOFOLLOW gives for a symlink (EMLINK on FreeBSD).
const opened = (path: string, error: unknown): null => {
  const code = errorCode(error)
  if (code === "ENOENT") return null
  if (code === "ELOOP" || code === "EMLINK") throw new UnsafePath({ reason: "symlink", path })
  throw error
}

const check = (path: string, st: Stats, options: ReadOptions): void => {
  if (!st.isFile()) throw new UnsafePath({ reason: "not_regular", path, kind: kindOf(st) })
  if (options.mustBeOurs === true) assertOurs(path, st)
  if (st.size > options.maxBytes) throw new UnsafePath({ reason: "too_large", path, maxBytes: options.maxBytes })
}

const tooLarge = (path: string, options: ReadOptions): UnsafePath =>
  new UnsafePath({ reason: "too_large", path, maxBytes: options.maxBytes })

/**
 * The file's text (UTF-8), or `null` when nothing is at `path`. Throws
 * {@link UnsafePath} for a symlink, anything but a regular file, a file over
 * `maxBytes` (also one that grows past it while being read) or, with
 * `mustBeOurs`, another user's file; other errors as Node raised them.
 *
 * @since 0.1.0
 */
export const readText = async (path: string, options: ReadOptions): Promise<string | null> => {
  let handle: FileHandle
  try {
    handle = await open(path, OPEN_FLAGS)
  } catch (error) {
    return opened(path, error)
  }
  try {
    check(path, await handle.stat(), options)
    const buffer = Buffer.allocUnsafe(options.maxBytes + 1)
    let total = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > options.maxBytes) throw tooLarge(path, options)
    }
    return buffer.toString("utf8", 0, total)
  } finally {
    await handle.close()
  }
}

/**
 * {@link readText}, synchronously, for the statusline client.
 *
 * @since 0.1.0
 */
export const readTextSync = (path: string, options: ReadOptions): string | null => {
  let fd: number
  try {
    fd = openSync(path, OPEN_FLAGS)
  } catch (error) {
    return opened(path, error)
  }
  try {
    check(path, fstatSync(fd), options)
    const buffer = Buffer.allocUnsafe(options.maxBytes + 1)
    let total = 0
    for (;;) {
      const bytesRead = readSync(fd, buffer, total, buffer.length - total, total)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > options.maxBytes) throw tooLarge(path, options)
    }
    return buffer.toString("utf8", 0, total)
  } finally {
    closeSync(fd)
  }
}
