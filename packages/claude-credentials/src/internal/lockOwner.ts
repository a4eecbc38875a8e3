/**
 * `<configDir>/.oauth_refresh.lock.owner`: who holds the refresh lock, in the
 * format Claude Code 2.1.330 writes and reads. Claude Code uses it to take
 * over a lock early when the record proves its holder is gone (same pid
 * namespace, and the pid is dead, a zombie, or was reused — a different
 * `procStart`). So every value here must be exactly what Claude Code would
 * compute for our process: a wrong `procStart` would make a live tollgate
 * look dead and let Claude Code take the lock from under it.
 *
 * The process identity, liveness, and the record file's reading and writing
 * are `@tollgate/files`' (ProcessIdentity, LockOwner); here are Claude Code's
 * file names, its exact schema (with the legacy lock's birth time) and its
 * field order.
 *
 * @internal
 */
import * as path from "node:path"
import { LockOwner, ProcessIdentity } from "@tollgate/files"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { errnoOf } from "./lockDir.js"

/** @internal */
export const OWNER_FILE = ".oauth_refresh.lock.owner"

/**
 * Our record for `.storage-write.lock`, for which Claude Code keeps none: with
 * it a lock left by a killed tollgate is taken over at once rather than after
 * Claude Code's 15 s staleness. Same format; Claude Code ignores the file.
 *
 * @internal
 */
export const STORAGE_WRITE_OWNER_FILE = ".storage-write.lock.tollgate-owner"

/** Claude Code's own schema for the record (it ignores a record that fails it). */
export const OwnerRecord = Schema.Struct({
  pid: Schema.Int,
  procStart: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  pidDomain: Schema.String.pipe(Schema.maxLength(512)),
  pidSpace: Schema.String.pipe(Schema.maxLength(512)),
  lockBirthtimeMs: Schema.Number.pipe(Schema.positive()),
  legacyLockBirthtimeMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
})

/** @internal */
export type OwnerRecord = typeof OwnerRecord.Type

const decode = Schema.decodeUnknownOption(Schema.parseJson(OwnerRecord))

/** @internal */
export const ownerPath = (configDir: string, file: string = OWNER_FILE): string => path.join(configDir, file)

/** The record for a lock we hold, field for field in Claude Code's order. */
export const recordFor = (lockBirthtimeMs: number, legacyLockBirthtimeMs: number | undefined): OwnerRecord => ({
  ...LockOwner.recordFor(lockBirthtimeMs),
  ...(legacyLockBirthtimeMs !== undefined && legacyLockBirthtimeMs > 0 ? { legacyLockBirthtimeMs } : {})
})

/**
 * Writes the record atomically (a random `O_EXCL|O_NOFOLLOW` temp file +
 * rename, mode 0644; the temp files of a writer killed mid-record swept).
 * Best effort, as in Claude Code: the lock is just as valid without it, the
 * record only lets others see who holds it.
 */
export const write = (configDir: string, record: OwnerRecord, file: string = OWNER_FILE): Effect.Effect<void> =>
  Effect.tryPromise(() => LockOwner.write(ownerPath(configDir, file), record, { mode: 0o644 })).pipe(
    Effect.catchAll((e) => Effect.logWarning(`refresh lock owner record not written [${errnoOf(e.error)}]`))
  )

/** The file's first 4 KiB, or `None` when there is no file. */
export const readText = (configDir: string, file: string = OWNER_FILE): Effect.Effect<Option.Option<string>> =>
  Effect.map(
    Effect.promise(() => LockOwner.readText(ownerPath(configDir, file))),
    Option.fromNullable
  )

/** A record Claude Code would accept, or `None`. */
export const parse = (text: string): Option.Option<OwnerRecord> => decode(text)

/** The pid of a record that fails the schema in some other field, for display only. */
export const pidOf = (text: string): number | null => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && "pid" in value && Number.isInteger(value.pid)
      ? (value.pid as number)
      : null
  } catch {
    return null
  }
}

/** The record, or `None` when it is missing or not one Claude Code would accept. */
export const read = (configDir: string, file: string = OWNER_FILE): Effect.Effect<Option.Option<OwnerRecord>> =>
  Effect.map(readText(configDir, file), Option.flatMap(parse))

/** Removes the record only if it is the one we wrote (Claude Code checks the same two fields). */
export const removeIfOurs = (
  configDir: string,
  lockBirthtimeMs: number,
  file: string = OWNER_FILE
): Effect.Effect<void> =>
  Effect.tryPromise(() => LockOwner.removeIfOurs(ownerPath(configDir, file), lockBirthtimeMs)).pipe(
    Effect.catchAll((e) => Effect.logWarning(`refresh lock owner record not removed [${errnoOf(e.error)}]`))
  )

/**
 * Whether the recorded holder still runs: `false` only when proven gone (as
 * Claude Code decides), `null` when it cannot be told from here (a different
 * machine or pid namespace).
 */
export const alive = (record: OwnerRecord): Effect.Effect<boolean | null> =>
  Effect.sync(() => ProcessIdentity.alive(record))

/**
 * Whether the lock instance `seen` was left by a process that provably no
 * longer runs: the record in `file`, valid by Claude Code's schema, names
 * that very instance (its birth time in `field`) and a holder {@link alive}
 * says is gone. Claude Code makes the same check before it takes a lock over early.
 */
export const abandoned = (
  configDir: string,
  file: string,
  field: "lockBirthtimeMs" | "legacyLockBirthtimeMs"
): ((seen: { readonly birthtimeMs: number }) => Promise<boolean>) =>
  LockOwner.abandoned(ownerPath(configDir, file), { field, parse: (text) => Option.getOrNull(parse(text)) })
