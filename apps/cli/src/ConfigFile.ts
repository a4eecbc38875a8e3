/**
 * The installers' side of editing another program's config file: the
 * refusal a command raises and the "Backup:" line it prints. The file
 * handling itself (symlink followed, backup with its mode, atomic replace)
 * is `@tollgate/files`' ConfigFile.
 */
import { ConfigFile } from "@tollgate/files"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
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

/** Turns a failed file step into the command's own refusal. */
export type Failed<E> = (what: string) => (error: { readonly message: string }) => E

/** The file as found (see `@tollgate/files`' ConfigFile.Found). */
export type Found = ConfigFile.Found

const refused =
  <E>(failed: Failed<E>) =>
  (error: unknown): E =>
    error instanceof ConfigFile.ConfigFileError
      ? failed(error.step)(error)
      : failed("write")({ message: error instanceof Error ? error.message : String(error) })

/** Reads `target`, following a symlink so it can be written through rather than replaced. */
export const read = <E>(target: string, failed: Failed<E>): Effect.Effect<Found, E> =>
  Effect.tryPromise({ try: () => ConfigFile.read(target), catch: refused(failed) })

/** Backs up the old file and atomically replaces it with `text`, saying where the backup is. */
export const replace = <E>(
  found: Found,
  text: string,
  newFileMode: number,
  failed: Failed<E>
): Effect.Effect<void, E> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const backup = yield* Effect.tryPromise({
      try: () => ConfigFile.replace(found, text, { newFileMode, now }),
      catch: refused(failed)
    })
    if (backup !== null) yield* Console.log(`Backup: ${backup}`)
  })
