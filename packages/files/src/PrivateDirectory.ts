/**
 * A directory only this user can use, for state and runtime files: created
 * 0700 when missing, and otherwise checked to be a real directory (not a
 * symlink) owned by this process's effective uid before anything is put in
 * it or read from it. A shared `XDG_RUNTIME_DIR` or `XDG_STATE_HOME` where
 * another user created `tollgate/` first, or where `tollgate/` is a symlink
 * to somewhere else, is refused with an {@link UnsafePath}.
 *
 * Only the last component is checked: the parents are the user's own choice
 * (a symlinked home is common), the last one is the name others can plant.
 *
 * @since 0.1.0
 */
import { lstatSync, type Stats } from "node:fs"
import { chmod, lstat, mkdir } from "node:fs/promises"
import { dirname } from "node:path"
import { assertOurs, errorCode, kindOf } from "./internal/stats.js"
import { UnsafePath } from "./UnsafePath.js"

/** The mode a private directory is created with and tightened to. @since 0.1.0 */
export const MODE = 0o700

// A real directory of ours, or an UnsafePath saying what it is instead.
const assertPrivate = (dir: string, st: Stats): void => {
  if (st.isSymbolicLink()) throw new UnsafePath({ reason: "symlink", path: dir })
  if (!st.isDirectory()) throw new UnsafePath({ reason: "not_directory", path: dir, kind: kindOf(st) })
  assertOurs(dir, st)
}

/** Whether `ensure` may tighten the mode of a directory that already exists. @since 0.1.0 */
export interface EnsureOptions {
  /**
   * Remove group and other bits from an existing directory of ours. Default
   * `true` (our own state and runtime directories); `false` for a directory
   * the user named, whose mode is theirs to choose.
   */
  readonly tighten?: boolean | undefined
}

/**
 * Creates `dir` when missing (its parents as `mkdir -p` would, `dir` itself
 * 0700 exactly, whatever the umask), then checks it is a real directory
 * owned by us; group or other bits on our own directory are removed rather
 * than refused, because `mkdir -p` under a loose umask is the usual cause
 * (unless `tighten: false`). Throws {@link UnsafePath} for a symlink, a non-directory or another
 * user's directory; other errors (EACCES, EROFS) as Node raised them.
 *
 * @since 0.1.0
 */
export const ensure = async (dir: string, options: EnsureOptions = {}): Promise<void> => {
  const parent = dirname(dir)
  if (parent !== dir) await mkdir(parent, { recursive: true })
  let created = true
  try {
    await mkdir(dir, { mode: MODE })
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error
    created = false
  }
  const st = await lstat(dir)
  assertPrivate(dir, st)
  const mode = st.mode & 0o777
  if (created) {
    if (mode !== MODE) await chmod(dir, MODE)
  } else if ((options.tighten ?? true) && (mode & 0o077) !== 0) await chmod(dir, mode & 0o700)
}

/**
 * Checks an existing `dir` without creating or changing anything: `true`
 * when it is a real directory of ours, `false` when nothing is there.
 * Throws {@link UnsafePath} otherwise.
 *
 * @since 0.1.0
 */
export const verify = async (dir: string): Promise<boolean> => {
  let st: Stats
  try {
    st = await lstat(dir)
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false
    throw error
  }
  assertPrivate(dir, st)
  return true
}

/**
 * {@link verify}, synchronously: one `lstat`, for the statusline client's
 * start-up budget.
 *
 * @since 0.1.0
 */
export const verifySync = (dir: string): boolean => {
  const st = lstatSync(dir, { throwIfNoEntry: false })
  if (st === undefined) return false
  assertPrivate(dir, st)
  return true
}
