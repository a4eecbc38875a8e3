/**
 * The socket's directory and the files in it: a 0700 directory of ours, and
 * removals that only ever delete the file we looked at.
 */
import { PrivateDirectory, UnsafePath } from "@tollgate/files"
import { lstat, unlink } from "node:fs/promises"
import { SocketError } from "./serverError.js"

/** @internal */
export const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined

/**
 * Creates `dir` (0700) or checks an existing one with `@tollgate/files`'
 * `PrivateDirectory.ensure`: a real directory owned by us, group and other
 * bits removed. Its refusal becomes an `UnsafeDirectory` {@link SocketError}
 * whose message is that one line (the path, and the owner when that is why).
 *
 * @internal
 */
export const ensurePrivateDir = async (dir: string): Promise<void> => {
  try {
    await PrivateDirectory.ensure(dir)
  } catch (error) {
    if (UnsafePath.isUnsafePath(error))
      throw new SocketError({ reason: "UnsafeDirectory", path: dir, detail: error.message })
    throw error
  }
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
