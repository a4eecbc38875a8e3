/**
 * Editing another program's JSON config file (Claude Code's settings.json,
 * opencode.json) without ever losing it: read through a symlink, back up the
 * old file with its mode, write a temp file (random name, O_EXCL|O_NOFOLLOW)
 * and rename it over the original.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { AtomicFile } from "@tollgate/files"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** An install could not go ahead; nothing was written. */
export class InstallRefused extends Schema.TaggedError<InstallRefused>("@tollgate/cli/InstallRefused")(
  "InstallRefused",
  {
    command: Schema.String,
    path: Schema.String,
    detail: Schema.String
  }
) {
  override get message(): string {
    return `${this.command}: ${this.detail}`
  }
}

/** The refusals an install of `target` raises: in its own words, or for a failed file operation. */
export const refusals = (command: string, target: string) => {
  const refuse = (detail: string) => new InstallRefused({ command, path: target, detail })
  const failed: Failed<InstallRefused> = (what) => (e) => refuse(`cannot ${what} ${target}: ${e.message}`)
  return { refuse, failed }
}

/** Turns a platform error into the command's own refusal. */
export type Failed<E> = (what: string) => (error: { readonly message: string }) => E

/** The file as found: `real` is the symlink's target when there is one. */
export interface Found {
  readonly target: string
  readonly real: string
  readonly exists: boolean
  readonly current: string | null
}

/** Reads `target`, following a symlink so it can be written through rather than replaced. */
export const read = <E>(target: string, failed: Failed<E>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(target).pipe(Effect.mapError(failed("check")))
    const real = exists ? yield* fs.realPath(target).pipe(Effect.mapError(failed("resolve"))) : target
    const current = exists ? yield* fs.readFileString(real).pipe(Effect.mapError(failed("read"))) : null
    return { target, real, exists, current } satisfies Found
  })

/**
 * Backs up the old file (same mode) and atomically replaces it with `text`
 * through `@tollgate/files`' AtomicFile (a random `O_EXCL|O_NOFOLLOW` temp
 * file beside it, fsync, rename): the old file's mode is kept exactly, and
 * its owner and group too when root edits it; a new file gets `newFileMode`.
 */
export const replace = <E>(found: Found, text: string, newFileMode: number, failed: Failed<E>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { target, real, exists } = found
    const info = exists ? yield* fs.stat(real).pipe(Effect.mapError(failed("stat"))) : null
    const mode = info !== null ? info.mode & 0o777 : newFileMode
    if (exists) {
      const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[:.]/g, "-")
      const backup = `${target}.bak-${stamp}`
      yield* fs.copyFile(real, backup).pipe(Effect.mapError(failed("back up")))
      yield* fs.chmod(backup, mode).pipe(Effect.mapError(failed("back up")))
      yield* Console.log(`Backup: ${backup}`)
    } else {
      yield* fs
        .makeDirectory(path.dirname(target), { recursive: true })
        .pipe(Effect.mapError(failed("create the directory of")))
    }
    // Root (sudo) editing a user's settings must leave them the user's.
    const owner =
      info !== null && process.geteuid?.() === 0
        ? { uid: Option.getOrUndefined(info.uid), gid: Option.getOrUndefined(info.gid) }
        : {}
    yield* Effect.tryPromise({
      try: () => AtomicFile.write(real, text, { mode, durable: true, ...owner }),
      catch: (error) => ({ message: error instanceof Error ? error.message : String(error) })
    }).pipe(Effect.mapError(failed("write")))
  })
