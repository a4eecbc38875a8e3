/**
 * Editing another program's config file (Claude Code's settings.json,
 * opencode.json) without ever losing it: read through a symlink so the link
 * is written through rather than replaced, back up the old file beside it
 * with its mode, and replace it through {@link AtomicFile.write} (a random
 * `O_EXCL|O_NOFOLLOW` temp file, fsync, rename). The old file's mode is kept
 * exactly, and its owner and group too when root edits it.
 *
 * Plain promises, no printing: an installer says what it backed up, from the
 * path `replace` returns.
 *
 * @since 0.2.0
 */
import { access, chmod, constants, copyFile, mkdir, readFile, realpath, stat } from "node:fs/promises"
import { dirname } from "node:path"
import * as AtomicFile from "./AtomicFile.js"
import { errorCode } from "./internal/stats.js"

/**
 * The step that failed, in words an installer can put after "cannot … <path>".
 *
 * @since 0.2.0
 */
export type Step = "check" | "resolve" | "read" | "stat" | "back up" | "create the directory of" | "write"

/**
 * A step of `read` or `replace` failed; `message` is the underlying error's, `step` says which.
 * Carries `_tag` so Effect code can match it; nothing was replaced when it is thrown.
 *
 * @since 0.2.0
 */
export class ConfigFileError extends Error {
  /** @since 0.2.0 */
  readonly _tag = "ConfigFileError" as const
  constructor(
    /** Which step failed. @since 0.2.0 */
    readonly step: Step,
    /** The file being edited. @since 0.2.0 */
    readonly path: string,
    cause: unknown
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause })
    this.name = "ConfigFileError"
  }
}

/**
 * The file as found: `real` is the symlink's target when there is one, `current` its text (`null`: no file).
 *
 * @since 0.2.0
 */
export interface Found {
  readonly target: string
  readonly real: string
  readonly exists: boolean
  readonly current: string | null
}

const step = async <A>(name: Step, path: string, body: () => Promise<A>): Promise<A> => {
  try {
    return await body()
  } catch (error) {
    throw new ConfigFileError(name, path, error)
  }
}

/**
 * Reads `target`, following a symlink so it can be written through rather than replaced.
 * Throws {@link ConfigFileError}.
 *
 * @since 0.2.0
 */
export const read = async (target: string): Promise<Found> => {
  const exists = await step("check", target, () =>
    access(target, constants.F_OK).then(
      () => true,
      (error: unknown) => {
        if (errorCode(error) === "ENOENT") return false
        throw error
      }
    )
  )
  if (!exists) return { target, real: target, exists, current: null }
  const real = await step("resolve", target, () => realpath(target))
  const current = await step("read", target, () => readFile(real, "utf8"))
  return { target, real, exists, current }
}

/**
 * How `replace` makes the new file: its mode when there was no file, and the time its backup is named after.
 *
 * @since 0.2.0
 */
export interface ReplaceOptions {
  /** The mode of a file that did not exist (an existing file keeps its own). */
  readonly newFileMode: number
  /** Milliseconds since the epoch, for the backup's name (`<target>.bak-<ISO time>`); defaults to now. */
  readonly now?: number
}

/**
 * Backs up the old file (same mode) and atomically replaces it with `text`; a
 * missing file gets its directory created and `newFileMode`. Returns the
 * backup's path (`null` when there was no file). Throws {@link ConfigFileError}.
 *
 * @since 0.2.0
 */
export const replace = async (found: Found, text: string, options: ReplaceOptions): Promise<string | null> => {
  const { target, real, exists } = found
  const info = exists ? await step("stat", target, () => stat(real)) : null
  const mode = info !== null ? info.mode & 0o777 : options.newFileMode
  let backup: string | null = null
  if (exists) {
    const stamp = new Date(options.now ?? Date.now()).toISOString().replace(/[:.]/g, "-")
    backup = `${target}.bak-${stamp}`
    const to = backup
    await step("back up", target, async () => {
      await copyFile(real, to)
      await chmod(to, mode)
    })
  } else {
    await step("create the directory of", target, () => mkdir(dirname(target), { recursive: true }))
  }
  // Root (sudo) editing a user's settings must leave them the user's.
  const owner = info !== null && process.geteuid?.() === 0 ? { uid: info.uid, gid: info.gid } : {}
  await step("write", target, () => AtomicFile.write(real, text, { mode, durable: true, ...owner }))
  return backup
}
