/**
 * The socket's directory and the files in it: a 0700 directory of ours, and
 * removals that only ever delete the file we looked at.
 */
import { chmod, lstat, mkdir, unlink } from "node:fs/promises"
import { SocketError } from "./serverError.js"

/** @internal */
export const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined

/**
 * Creates `dir` (mode 0700) or checks an existing one: a real directory owned
 * by us. Group or world bits on our own directory are removed rather than
 * refused, because `mkdir -p` under a loose umask is the usual cause.
 *
 * @internal
 */
export const ensurePrivateDir = async (dir: string): Promise<void> => {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const st = await lstat(dir)
  if (!st.isDirectory()) {
    throw new SocketError({ reason: "UnsafeDirectory", path: dir, detail: "is not a directory (a symlink or a file); refusing to put the daemon's socket there" })
  }
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) {
    throw new SocketError({ reason: "UnsafeDirectory", path: dir, detail: `belongs to uid ${st.uid}, not to us (uid ${uid}); refusing to put the daemon's socket there` })
  }
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700)
}

/** `unlink` that treats "already gone" as done. @internal */
export const unlinkQuietly = async (path: string): Promise<void> => {
  try {
    await unlink(path)
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error
  }
}

/** The inode at `path`, or `null` when nothing is there. @internal */
export const inodeOf = async (path: string): Promise<number | null> => {
  try {
    return (await lstat(path)).ino
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null
    throw error
  }
}
