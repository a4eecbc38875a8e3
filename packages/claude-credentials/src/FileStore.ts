/**
 * The file backend: `<configDir>/.credentials.json`, written the way Claude
 * Code writes it — a temp file created with mode 0600, fsync, atomic rename,
 * fsync of the directory — so a reader, or a crash at any instant, sees the
 * old document or the new one, never a mix, an empty file or a wider mode.
 *
 * A replacement keeps the original's owner and group (root refreshing a
 * user's store must not leave it root's), and is prepared in full before the
 * refresh token is spent (see `Store.prepare`): only "write the final bytes
 * into the already filled temp file, fsync, rename" is left for after.
 *
 * Reads take only a regular file of at most `Credential.MAX_DOCUMENT_BYTES`
 * (a FIFO or a device planted at the path is refused, never waited on).
 *
 * @since 0.1.0
 */
import { lstatSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Credential } from "@tollgate/core"
import { AtomicFile, SafeRead, UnsafePath } from "@tollgate/files"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { type Prepared, type Store, StoreError } from "./CredentialStore.js"
import type { Location } from "./StoreLocation.js"

/** How the file backend treats the path it is given. @since 0.1.0 */
export interface Options {
  /** Follow a `.credentials.json` that is a symbolic link. Off by default: a link may point anywhere. */
  readonly followSymlinks?: boolean | undefined
}

// A writer killed between create and rename leaves its temp file (0600) behind; ours are removed
// once they are old enough not to belong to a live write. Claude Code's own are `.tmp.<random>`.
const LEFTOVER_AGE_MS = 60_000

const errnoOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined

const failure = (operation: "read" | "write", where: string) => (error: unknown) => {
  if (error instanceof StoreError) return error
  if (error instanceof UnsafePath.UnsafePath) {
    const reason = error.reason === "symlink" ? "symlink" : error.reason === "too_large" ? "too_large" : "not_regular"
    return new StoreError({ backend: "file", operation, reason, where })
  }
  const code = errnoOf(error)
  return new StoreError({
    backend: "file",
    operation,
    reason:
      code === "EACCES" || code === "EPERM"
        ? "permission"
        : code === "ENOSPC" || code === "EDQUOT"
          ? "no_space"
          : error instanceof RangeError
            ? "not_serializable"
            : "io",
    where,
    ...(code ? { detail: code } : {})
  })
}

const serialize = (document: Credential.Document): string => `${JSON.stringify(document, null, 2)}\n`

/**
 * `text` padded with spaces before its final newline to `bytes`, when it is
 * shorter: the final document then overwrites the prepared one in place, so
 * making it durable after the token response costs one data write and no
 * metadata (JSON allows the trailing whitespace).
 */
const fitTo = (text: string, bytes: number): string => {
  const short = bytes - Buffer.byteLength(text)
  return short > 0 ? `${text.slice(0, -1)}${" ".repeat(short)}\n` : text
}

/** Whose the file is, when a replacement must keep an owner or group that is not ours. */
const ownerToKeep = (stat: { readonly uid: number; readonly gid: number } | null) => {
  if (stat === null || process.geteuid === undefined || process.getegid === undefined) return {}
  return stat.uid !== process.geteuid() || stat.gid !== process.getegid() ? { uid: stat.uid, gid: stat.gid } : {}
}

/**
 * The file store at `location.file`: reads refuse anything but a regular file
 * (a symlink unless `followSymlinks`), writes replace it atomically, keeping
 * its owner. Use it directly off macOS, or let `Stores.detect` choose.
 *
 * @since 0.1.0
 */
export const make = (location: Location, options: Options = {}): Store => {
  const file = location.file

  // The real target: the file itself, or — only when allowed — what its link points to.
  const target = (operation: "read" | "write") =>
    Effect.tryPromise({
      try: async () => {
        const stat = await fs.lstat(file).catch((e: unknown) => {
          if (errnoOf(e) === "ENOENT") return null
          throw e
        })
        if (stat === null) return { path: file, stat: null }
        if (stat.isSymbolicLink()) {
          if (!options.followSymlinks)
            throw new StoreError({ backend: "file", operation, reason: "symlink", where: file })
          const real = await fs.realpath(file)
          return { path: real, stat: await fs.lstat(real) }
        }
        if (!stat.isFile()) throw new StoreError({ backend: "file", operation, reason: "not_regular", where: file })
        return { path: file, stat }
      },
      catch: failure(operation, file)
    })

  // What identifies one version of the file: a rename-over changes the inode, a write in place the
  // times (ns) or the size. Taken before a read, so a change during the read is seen as a change.
  const stampOf = (at: string): string | null => {
    try {
      const s = lstatSync(at, { bigint: true })
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return null
      throw error
    }
  }

  const readAt = (at: string | null) =>
    Effect.gen(function* () {
      if (at === null) return Option.none<Credential.Document>()
      const text = yield* Effect.tryPromise({
        try: () => SafeRead.readText(at, { maxBytes: Credential.MAX_DOCUMENT_BYTES }),
        catch: failure("read", file)
      })
      if (text === null) return Option.none<Credential.Document>()
      const parsed = Credential.parseDocument(text)
      if (Either.isLeft(parsed)) {
        return yield* new StoreError({ backend: "file", operation: "read", reason: parsed.left.reason, where: file })
      }
      return Option.some(parsed.right)
    })

  const read = Effect.flatMap(target("read"), (resolved) => readAt(resolved.stat === null ? null : resolved.path))

  const prepare = (template: Credential.Document) =>
    Effect.gen(function* () {
      const resolved = yield* target("write")
      const dir = path.dirname(resolved.path)
      const text = yield* Effect.try({ try: () => serialize(template), catch: failure("write", file) })
      const temp = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            await fs.mkdir(dir, { recursive: true, mode: 0o700 })
            return AtomicFile.prepare(resolved.path, { mode: 0o600, ...ownerToKeep(resolved.stat) })
          },
          catch: failure("write", file)
        }),
        (prepared) => Effect.promise(() => prepared.discard())
      )
      // Filled and synced now: a disk without room for the document says so before anything is spent.
      yield* Effect.tryPromise({ try: () => temp.write(text), catch: failure("write", file) })
      const prepared = Buffer.byteLength(text)
      // The document as of now, and its stamp: after the token response a stat tells whether it is still current.
      const stamp = yield* Effect.try({ try: () => stampOf(resolved.path), catch: failure("read", file) })
      const current = yield* readAt(stamp === null ? null : resolved.path)
      // Decide, write the final bytes into the prepared file and rename it, synchronously.
      const place = <E>(
        latest: Option.Option<Credential.Document>,
        decide: (latest: Option.Option<Credential.Document>) => Either.Either<Credential.Document, E>
      ): Effect.Effect<Credential.Document, StoreError | E> =>
        Effect.suspend<Credential.Document, StoreError | E, never>(() => {
          const decided = decide(latest)
          if (Either.isLeft(decided)) return Effect.fail(decided.left)
          return Effect.try({
            try: () => {
              const final = fitTo(serialize(decided.right), prepared)
              temp.writeAndCommitSync(final === text ? null : final)
              return decided.right
            },
            catch: failure("write", file)
          })
        })
      const replacement: Prepared = {
        swap: <E>(decide: (latest: Option.Option<Credential.Document>) => Either.Either<Credential.Document, E>) =>
          Effect.suspend((): Effect.Effect<Credential.Document, StoreError | E> => {
            let now: string | null
            try {
              now = stampOf(resolved.path)
            } catch (error) {
              return Effect.fail(failure("read", file)(error))
            }
            return now !== null && now === stamp
              ? place(current, decide)
              : Effect.flatMap(readAt(now === null ? null : resolved.path), (latest) => place(latest, decide))
          }),
        settle: Effect.promise(async () => {
          await AtomicFile.syncDirectory(dir).catch(() => {})
          await removeLeftovers(dir, path.basename(resolved.path))
        })
      }
      return replacement
    })

  // A plain write has nothing to prepare ahead of: one temp file filled with the document, fsync,
  // rename, fsync of the directory.
  const write = (document: Credential.Document) =>
    Effect.gen(function* () {
      const resolved = yield* target("write")
      const dir = path.dirname(resolved.path)
      const text = yield* Effect.try({ try: () => serialize(document), catch: failure("write", file) })
      yield* Effect.tryPromise({
        try: async () => {
          await fs.mkdir(dir, { recursive: true, mode: 0o700 })
          await AtomicFile.write(resolved.path, text, { mode: 0o600, durable: true, ...ownerToKeep(resolved.stat) })
        },
        catch: failure("write", file)
      })
      yield* Effect.promise(() => removeLeftovers(dir, path.basename(resolved.path)))
    })

  return { backend: "file", location, read, write, prepare }
}

// The owner records' temp files too: a refresh killed while writing one leaves it in Claude Code's directory.
const OWNER_RECORDS = [".oauth_refresh.lock.owner", ".storage-write.lock.tollgate-owner"]

/** Our temp files beside `base` and the lock owner records: `AtomicFile`'s `.<name>.<16 hex>.tmp` names. */
const isOurTemp = (name: string, base: string): boolean =>
  /\.[0-9a-f]{16}\.tmp$/.test(name) &&
  [base, ...OWNER_RECORDS].some((file) => name.startsWith(`${file.startsWith(".") ? "" : "."}${file}.`))

const removeLeftovers = async (dir: string, base: string): Promise<void> => {
  const names = await fs.readdir(dir).catch(() => [] as Array<string>)
  const now = Date.now()
  for (const name of names) {
    if (!isOurTemp(name, base)) continue
    const full = path.join(dir, name)
    const stat = await fs.lstat(full).catch(() => null)
    if (stat?.isFile() && now - stat.mtimeMs > LEFTOVER_AGE_MS) await fs.rm(full, { force: true }).catch(() => {})
  }
}
