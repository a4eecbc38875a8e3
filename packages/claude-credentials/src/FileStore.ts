/**
 * The file backend: `<configDir>/.credentials.json`, written the way Claude
 * Code writes it — a temp file created with mode 0600, fsync, atomic rename,
 * fsync of the directory — so a reader, or a crash at any instant, sees the
 * old document or the new one, never a mix, an empty file or a wider mode.
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Credential } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { type Store, StoreError } from "./CredentialStore.js"
import type { Location } from "./StoreLocation.js"

/** @since 0.1.0 */
export interface Options {
  /** Follow a `.credentials.json` that is a symbolic link. Off by default: a link may point anywhere. */
  readonly followSymlinks?: boolean | undefined
}

// Our temp files carry their own marker so a clean-up never touches a temp
// file Claude Code is in the middle of writing.
const TEMP_MARKER = ".tollgate-tmp."
const LEFTOVER_AGE_MS = 60_000

const errnoOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined

const failure = (operation: "read" | "write", where: string) => (error: unknown) => {
  const code = errnoOf(error)
  return new StoreError({
    backend: "file",
    operation,
    reason: code === "EACCES" || code === "EPERM" ? "permission" : "io",
    where,
    ...(code ? { detail: code } : {})
  })
}

/**
 * @since 0.1.0
 */
export const make = (location: Location, options: Options = {}): Store => {
  const file = location.file

  // The real target: the file itself, or — only when allowed — what its link points to.
  const target = (operation: "read" | "write") =>
    Effect.tryPromise({
      try: async (): Promise<Option.Option<string> | "symlink"> => {
        const stat = await fs.lstat(file).catch((e: unknown) => {
          if (errnoOf(e) === "ENOENT") return null
          throw e
        })
        if (stat === null) return Option.none()
        if (!stat.isSymbolicLink()) return Option.some(file)
        return options.followSymlinks ? Option.some(await fs.realpath(file)) : "symlink"
      },
      catch: failure(operation, file)
    }).pipe(
      Effect.flatMap((t) =>
        t === "symlink"
          ? Effect.fail(new StoreError({ backend: "file", operation, reason: "symlink", where: file }))
          : Effect.succeed(t)
      )
    )

  const read = Effect.gen(function* () {
    const resolved = yield* target("read")
    if (Option.isNone(resolved)) return Option.none<Credential.Document>()
    const text = yield* Effect.tryPromise({ try: () => fs.readFile(resolved.value, "utf8"), catch: failure("read", file) })
    const parsed = Credential.parseDocument(text)
    if (Either.isLeft(parsed)) {
      return yield* new StoreError({ backend: "file", operation: "read", reason: parsed.left.reason, where: file })
    }
    return Option.some(parsed.right)
  })

  const write = (document: Credential.Document) =>
    Effect.gen(function* () {
      const resolved = Option.getOrElse(yield* target("write"), () => file)
      const dir = path.dirname(resolved)
      const temp = `${resolved}${TEMP_MARKER}${randomBytes(4).toString("hex")}`
      const text = JSON.stringify(document, null, 2) + "\n"
      yield* Effect.tryPromise({
        try: () => writeAtomically(dir, temp, resolved, text),
        catch: failure("write", file)
      })
      yield* Effect.promise(() => removeLeftovers(dir, path.basename(resolved)))
    })

  return { backend: "file", location, read, write }
}

const writeAtomically = async (dir: string, temp: string, target: string, text: string): Promise<void> => {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  // O_EXCL + mode 0600 from creation: the token is never readable by others, not even for an instant.
  const handle = await fs.open(temp, "wx", 0o600)
  try {
    try {
      await handle.chmod(0o600) // umask can only narrow the mode; make it exact
      await handle.writeFile(text, "utf8")
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, target)
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => {})
    throw error
  }
  const directory = await fs.open(dir, "r")
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}

// A writer killed between create and rename leaves its temp file behind;
// ours are removed once they are old enough not to belong to a live write.
const removeLeftovers = async (dir: string, base: string): Promise<void> => {
  const names = await fs.readdir(dir).catch(() => [] as Array<string>)
  const now = Date.now()
  for (const name of names) {
    if (!name.startsWith(`${base}${TEMP_MARKER}`)) continue
    const full = path.join(dir, name)
    const stat = await fs.lstat(full).catch(() => null)
    if (stat && now - stat.mtimeMs > LEFTOVER_AGE_MS) await fs.rm(full, { force: true }).catch(() => {})
  }
}
