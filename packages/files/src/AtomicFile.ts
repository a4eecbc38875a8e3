/**
 * Replacing a file so that a reader sees the old contents or the new ones,
 * never a part, and nobody else's file is ever written: the new contents go
 * to a temp file beside the target under a random name, created with
 * `O_CREAT|O_EXCL|O_NOFOLLOW` (a name planted in advance, as a file or a
 * symlink, is never opened) and its final mode from the start, then renamed
 * over the target. `rename` replaces a symlink at the target rather than
 * following it. The temp file is removed on any failure.
 *
 * `write` does it in one call (`create` for a file that must not exist
 * yet; `writeSync` for code that cannot wait for the event loop: an exit
 * handler, a CommonJS start-up path). `prepare` exposes the steps for a writer that
 * must prove the disk has room before it does something irreversible (the
 * credential store fills and fsyncs its temp file before a refresh token is
 * spent, and only patches and commits it after).
 *
 * @since 0.1.0
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync as writeBytesSync
} from "node:fs"
import { type FileHandle, link, open, rename, rm } from "node:fs/promises"
import { dirname } from "node:path"
import { errorCode } from "./internal/stats.js"
import * as temps from "./internal/temps.js"
import { CREATE_ATTEMPTS, CREATE_FLAGS } from "./internal/temps.js"

/**
 * How `prepare`, `create` and `write` make the new file: its mode, owner and
 * group, and whether it is fsynced.
 *
 * @since 0.1.0
 */
export interface Options {
  /** The file's mode, set exactly (not filtered by the umask). Default 0600. */
  readonly mode?: number | undefined
  /** Owner to give the file (fchown), e.g. the original's when root rewrites a user's file. Default: ours. */
  readonly uid?: number | undefined
  /** Group to give the file (fchown). Default: as created. */
  readonly gid?: number | undefined
  /**
   * fsync the file before the rename and the directory after it, so the new
   * contents survive a power loss. Default `true`; files that describe one
   * run only (the runtime directory's) pass `false`.
   */
  readonly durable?: boolean | undefined
}

/** Per commit: whether to fsync the directory after the rename, overriding the preparation's `durable`. @since 0.1.0 */
export interface CommitOptions {
  /** fsync the directory after the rename. Default: the preparation's `durable`. */
  readonly syncDirectory?: boolean | undefined
}

/**
 * A temp file beside `target`, open for writing, not yet in place.
 * Exactly one of `commit` or `discard` ends it; `discard` after `commit` (or
 * twice) does nothing, so it can sit in a `finally`.
 *
 * @since 0.1.0
 */
export interface Prepared {
  /** The file this will replace. */
  readonly target: string
  /** The temp file's path (random, in the target's directory). */
  readonly path: string
  /**
   * Replaces the temp file's whole contents with `data` (from offset 0,
   * truncated to its length) and, when durable, fdatasyncs it (the data and
   * the size; a rewrite of the same length touches no metadata that must
   * reach the disk, so it costs one data write). May be called
   * more than once: the last call's data is what `commit` puts in place.
   */
  readonly write: (data: string | Uint8Array) => Promise<void>
  /**
   * Closes the temp file and renames it over `target`, then fsyncs the
   * directory when durable — unless `syncDirectory: false`, for a caller
   * that must return the moment the rename is done (the credential store
   * ends a refresh's critical window there) and calls {@link syncDirectory}
   * itself right after.
   */
  readonly commit: (options?: CommitOptions) => Promise<void>
  /**
   * {@link write} and the rename of {@link commit} as one synchronous step,
   * with no turn of the event loop in between: for the instant after a refresh
   * token was spent, where every millisecond is one a SIGKILL can lose the
   * login in. The descriptor stays open until {@link discard} (renaming an
   * open file is fine); the directory is not fsync'd — call
   * {@link syncDirectory} after.
   */
  readonly writeAndCommitSync: (data: string | Uint8Array | null) => void
  /**
   * Like `commit`, but only where nothing is at `target` yet: the temp file
   * is hard-linked in (`link` fails with EEXIST for anything there, a
   * dangling symlink included, and never follows one), then its temp name
   * removed. On EEXIST the temp file is discarded and `target` left alone.
   */
  readonly commitNew: () => Promise<void>
  /** Closes and removes the temp file, leaving `target` as it was. Never rejects. */
  readonly discard: () => Promise<void>
}

/** The default mode of a file written here. @since 0.1.0 */
export const DEFAULT_MODE = 0o600

/**
 * A fresh temp file name for `target`, in its directory: hidden, random,
 * ending in `.tmp` so a stray one is recognisable.
 *
 * @since 0.1.0
 */
export const tempPathFor: (target: string) => string = temps.tempPathFor

/**
 * Removes the temp files ({@link tempPathFor}'s names, of any age) that
 * writers of `target` killed between creating and renaming them left beside
 * it, and returns how many. Only for a caller that holds the lock every
 * writer of `target` takes: then no live writer has a temp file open, and
 * every one there is a dead writer's. Never rejects.
 *
 * @since 0.2.0
 */
export const sweepTemps: (target: string) => Promise<number> = temps.sweepTemps

/**
 * {@link sweepTemps}, synchronously, for an exit handler that holds the lock
 * of every writer of `target`. Returns how many it removed; never throws.
 *
 * @since 0.2.0
 */
export const sweepTempsSync: (target: string) => number = temps.sweepTempsSync

/**
 * Whether `name` (a bare file name) is a temp file of {@link tempPathFor}'s
 * making — of `target` when given, else of any target — so a directory's
 * owner can tidy what writers killed mid-write left, by its own rules.
 *
 * @since 0.2.0
 */
export const isTempName: (name: string, prefixOrTarget?: string) => boolean = temps.isTempName

const createTemp = async (target: string, mode: number): Promise<{ path: string; handle: FileHandle }> => {
  for (let attempt = 1; ; attempt++) {
    const path = tempPathFor(target)
    try {
      return { path, handle: await open(path, CREATE_FLAGS, mode) }
    } catch (error) {
      if (errorCode(error) !== "EEXIST" || attempt >= CREATE_ATTEMPTS) throw error
    }
  }
}

// What a filesystem that cannot fsync a directory answers.
const DIRECTORY_SYNC_UNSUPPORTED = new Set(["EINVAL", "EISDIR", "EPERM", "EBADF", "ENOTSUP"])

/**
 * fsyncs `dir`, so a rename in it survives a power loss. Filesystems that
 * cannot fsync a directory (EINVAL, EISDIR, EPERM on some) are left as is:
 * the rename has happened either way.
 *
 * @since 0.1.0
 */
export const syncDirectory = async (dir: string): Promise<void> => {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
    await handle.sync()
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errorCode(error) ?? "")) throw error
  } finally {
    await handle?.close().catch(() => {})
  }
}

/**
 * Creates the temp file for replacing `target` (see {@link Prepared}): mode
 * `options.mode` from creation and then exactly, owner `uid`/`gid` when
 * given. Rejects (and leaves nothing behind) when the directory is missing
 * or not writable, or the owner cannot be set.
 *
 * @since 0.1.0
 */
export const prepare = async (target: string, options: Options = {}): Promise<Prepared> => {
  const mode = options.mode ?? DEFAULT_MODE
  const durable = options.durable ?? true
  const { path, handle } = await createTemp(target, mode)
  let state: "open" | "committed" | "discarded" = "open"
  // The temp file's size: a rewrite of the same length needs no truncate.
  let length = 0
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await handle.close()
  }
  // After writeAndCommitSync the file is in place but its descriptor still open: discard only closes it.
  const discard = async (): Promise<void> => {
    if (state !== "open") return void (await close().catch(() => {}))
    state = "discarded"
    await close().catch(() => {})
    await rm(path, { force: true }).catch(() => {})
  }
  try {
    // The umask filtered the mode given to open; the file's mode is set exactly before any byte is in it.
    await handle.chmod(mode)
    if (options.uid !== undefined || options.gid !== undefined) await handle.chown(options.uid ?? -1, options.gid ?? -1)
  } catch (error) {
    await discard()
    throw error
  }
  const assertOpen = (): void => {
    if (state !== "open") throw new Error(`${path}: the temp file was already ${state}`)
  }
  return {
    target,
    path,
    write: async (data) => {
      assertOpen()
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data
      let offset = 0
      while (offset < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, offset)
        offset += bytesWritten
      }
      if (bytes.length !== length) await handle.truncate(bytes.length)
      length = bytes.length
      if (durable) await handle.datasync()
    },
    commit: async (commitOptions = {}) => {
      assertOpen()
      try {
        await close()
        await rename(path, target)
      } catch (error) {
        await discard()
        throw error
      }
      state = "committed"
      if (commitOptions.syncDirectory ?? durable) await syncDirectory(dirname(target))
    },
    writeAndCommitSync: (data) => {
      assertOpen()
      if (data !== null) {
        const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data
        let offset = 0
        while (offset < bytes.length) offset += writeBytesSync(handle.fd, bytes, offset, bytes.length - offset, offset)
        if (bytes.length !== length) ftruncateSync(handle.fd, bytes.length)
        length = bytes.length
        if (durable) fdatasyncSync(handle.fd)
      }
      renameSync(path, target)
      state = "committed"
    },
    commitNew: async () => {
      assertOpen()
      try {
        await close()
        await link(path, target)
      } catch (error) {
        await discard()
        throw error
      }
      state = "committed"
      await rm(path, { force: true })
      if (durable) await syncDirectory(dirname(target))
    },
    discard
  }
}

/**
 * Writes a new file at `target` whole, or nothing: like {@link write}, but
 * rejects with EEXIST when anything is already at `target` (a dangling
 * symlink included; it is never followed), leaving it as it was.
 *
 * @since 0.1.0
 */
export const create = async (target: string, data: string | Uint8Array, options: Options = {}): Promise<void> => {
  const prepared = await prepare(target, options)
  try {
    await prepared.write(data)
    await prepared.commitNew()
  } finally {
    await prepared.discard()
  }
}

/**
 * Replaces `target` with `data` atomically (see the module doc): a random
 * `O_EXCL|O_NOFOLLOW` temp file beside it, mode 0600 unless told otherwise,
 * fsync'd when durable (the default), renamed over the target. On any
 * failure the temp file is removed and `target` is as it was.
 *
 * @since 0.1.0
 */
export const write = async (target: string, data: string | Uint8Array, options: Options = {}): Promise<void> => {
  const prepared = await prepare(target, options)
  try {
    await prepared.write(data)
    await prepared.commit()
  } finally {
    await prepared.discard()
  }
}

/**
 * {@link write}, synchronously: the same random `O_EXCL|O_NOFOLLOW` temp
 * file, exact mode, fsync of the file and of the directory when durable (the
 * default), rename over `target`, temp file removed on any failure. For code
 * that cannot yield to the event loop — a process-exit handler, a start-up
 * path that must stay synchronous. Throws what the failed step threw.
 *
 * @since 0.2.0
 */
export const writeSync = (target: string, data: string | Uint8Array, options: Options = {}): void => {
  const mode = options.mode ?? DEFAULT_MODE
  const durable = options.durable ?? true
  let path = tempPathFor(target)
  let fd: number | undefined
  for (let attempt = 1; fd === undefined; attempt++) {
    try {
      fd = openSync(path, CREATE_FLAGS, mode)
    } catch (error) {
      if (errorCode(error) !== "EEXIST" || attempt >= CREATE_ATTEMPTS) throw error
      path = tempPathFor(target)
    }
  }
  try {
    try {
      fchmodSync(fd, mode)
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data
      let offset = 0
      while (offset < bytes.length) offset += writeBytesSync(fd, bytes, offset, bytes.length - offset, offset)
      if (durable) fdatasyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(path, target)
  } catch (error) {
    try {
      unlinkSync(path)
    } catch {
      // Never created or already renamed.
    }
    throw error
  }
  if (durable) syncDirectorySync(dirname(target))
}

const syncDirectorySync = (dir: string): void => {
  let fd: number | undefined
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
    fsyncSync(fd)
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errorCode(error) ?? "")) throw error
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
