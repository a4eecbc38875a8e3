/**
 * `<configDir>/.oauth_refresh.lock.owner`: who holds the refresh lock, in the
 * format Claude Code 2.1.330 writes and reads. Claude Code uses it to take
 * over a lock early when the record proves its holder is gone (same pid
 * namespace, and the pid is dead, a zombie, or was reused — a different
 * `procStart`). So every value here must be exactly what Claude Code would
 * compute for our process: a wrong `procStart` would make a live tollgate
 * look dead and let Claude Code take the lock from under it.
 *
 * @internal
 */
import { readFileSync, readlinkSync } from "node:fs"
import * as fs from "node:fs/promises"
import { hostname } from "node:os"
import * as path from "node:path"
import { AtomicFile } from "@tollgate/files"
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

/** Claude Code reads at most this much of the file. */
const MAX_BYTES = 4096

/** @internal */
export const ownerPath = (configDir: string, file: string = OWNER_FILE): string => path.join(configDir, file)

const readOr = (file: string, fallback: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return fallback
  }
}

const readlinkOr = (link: string): string => {
  try {
    return readlinkSync(link)
  } catch {
    return ""
  }
}

/** Field 22 (start time in clock ticks since boot) of `/proc/<pid>/stat`, as Claude Code reads it. */
const statFields = (pid: number): ReadonlyArray<string> | null => {
  const stat = readOr(`/proc/${pid}/stat`, "")
  const close = stat.lastIndexOf(")")
  return stat === "" || close < 0 ? null : stat.slice(close + 2).split(" ")
}

/** What Claude Code records about a process: the same on Linux; other platforms mirror its non-Linux branches. */
export interface ProcessIdentity {
  readonly procStart: string | undefined
  readonly pidDomain: string
  readonly pidSpace: string
}

const computeIdentity = (pid: number): ProcessIdentity => {
  const ns = process.platform === "linux" ? readlinkOr("/proc/self/ns/pid") : ""
  const pidDomain =
    process.platform === "linux"
      ? `linux:${readOr("/etc/machine-id", "").trim()}:${ns}`
      : process.platform === "win32"
        ? `linux:${hostname().toLowerCase()}`
        : // Claude Code 2.1.330 literally uses "linux" on every other platform.
          "linux"
  return {
    // Off Linux Claude Code shells out to `ps -o lstart=`; leaving it out is safe: without it
    // Claude Code only takes over when the pid is dead, never from a live tollgate.
    procStart: process.platform === "linux" ? statFields(pid)?.[19] : undefined,
    pidDomain,
    pidSpace: `${hostname()}${ns === "" ? "" : `#${ns}`}`
  }
}

let ours: ProcessIdentity | undefined

/** Our own process's identity, computed once. */
export const ourIdentity = (): ProcessIdentity => (ours ??= computeIdentity(process.pid))

/** The record for a lock we hold, field for field in Claude Code's order. */
export const recordFor = (lockBirthtimeMs: number, legacyLockBirthtimeMs: number | undefined): OwnerRecord => {
  const me = ourIdentity()
  return {
    pid: process.pid,
    ...(me.procStart !== undefined ? { procStart: me.procStart } : {}),
    pidDomain: me.pidDomain,
    pidSpace: me.pidSpace,
    lockBirthtimeMs,
    ...(legacyLockBirthtimeMs !== undefined && legacyLockBirthtimeMs > 0 ? { legacyLockBirthtimeMs } : {})
  }
}

/**
 * Writes the record atomically (a random `O_EXCL|O_NOFOLLOW` temp file +
 * rename, mode 0644). Best effort, as in Claude Code: the lock is just as
 * valid without it, the record only lets others see who holds it.
 */
export const write = (configDir: string, record: OwnerRecord, file: string = OWNER_FILE): Effect.Effect<void> =>
  Effect.tryPromise(async () => {
    await sweepTemps(configDir, file)
    // Claude Code's record is 0644 under the usual umask; ours is 0644 under any. It names a lock
    // that dies with this process, so there is nothing to fsync.
    await AtomicFile.write(ownerPath(configDir, file), JSON.stringify(record), { mode: 0o644, durable: false })
  }).pipe(Effect.catchAll((e) => Effect.logWarning(`refresh lock owner record not written [${errnoOf(e.error)}]`)))

/**
 * Removes the temp files (`AtomicFile`'s `.<file>.<16 hex>.tmp`) a process
 * killed while writing this record left. Only the lock's holder writes the
 * record, and we hold the lock, so every such file is a dead writer's, of any age.
 */
const sweepTemps = async (configDir: string, file: string): Promise<void> => {
  const prefix = `${file}.`
  const names = await fs.readdir(configDir).catch(() => [] as Array<string>)
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{16}\.tmp$/.test(name.slice(prefix.length))) continue
    const full = path.join(configDir, name)
    const stat = await fs.lstat(full).catch(() => null)
    if (stat?.isFile()) await fs.rm(full, { force: true }).catch(() => {})
  }
}

/** The file's first 4 KiB, or `None` when there is no file. */
export const readText = (configDir: string, file: string = OWNER_FILE): Effect.Effect<Option.Option<string>> =>
  Effect.tryPromise(async () => {
    const handle = await fs.open(ownerPath(configDir, file), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
    try {
      const buffer = Buffer.alloc(MAX_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, MAX_BYTES, 0)
      return buffer.toString("utf8", 0, bytesRead)
    } finally {
      await handle.close()
    }
  }).pipe(Effect.option)

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
export const removeIfOurs = (configDir: string, lockBirthtimeMs: number, file: string = OWNER_FILE): Effect.Effect<void> =>
  Effect.flatMap(read(configDir, file), (record) =>
    Option.isSome(record) && record.value.pid === process.pid && record.value.lockBirthtimeMs === lockBirthtimeMs
      ? Effect.tryPromise(() => fs.unlink(ownerPath(configDir, file))).pipe(
          Effect.catchAll((e) =>
            errnoOf(e.error) === "ENOENT"
              ? Effect.void
              : Effect.logWarning(`refresh lock owner record not removed [${errnoOf(e.error)}]`)
          )
        )
      : Effect.void
  )

const MAX_PID = 2147483647

/**
 * Whether the recorded holder still runs: `false` only when proven gone (as
 * Claude Code decides), `null` when it cannot be told from here (a different
 * machine or pid namespace).
 */
export const alive = (record: OwnerRecord): Effect.Effect<boolean | null> =>
  Effect.sync(() => {
    const me = ourIdentity()
    if (record.pidDomain !== me.pidDomain || record.pidSpace !== me.pidSpace) return null
    if (!Number.isInteger(record.pid) || record.pid <= 1 || record.pid > MAX_PID) return null
    try {
      process.kill(record.pid, 0)
    } catch (error) {
      // EPERM: it exists but belongs to someone else.
      if (errnoOf(error) === "ESRCH") return false
    }
    if (process.platform !== "linux") return true
    const fields = statFields(record.pid)
    if (fields === null) return false
    if (fields[0] === "Z" || fields[0] === "X") return false
    return record.procStart === undefined || record.procStart === fields[19]
  })

/**
 * Whether the lock instance `seen` was left by a process that provably no
 * longer runs: the record in `file` names that very instance (its birth time
 * in `field`) and a holder {@link alive} says is gone. Claude Code makes the
 * same check before it takes a lock over early.
 */
export const abandoned =
  (configDir: string, file: string, field: "lockBirthtimeMs" | "legacyLockBirthtimeMs") =>
  (seen: { readonly birthtimeMs: number }): Effect.Effect<boolean> =>
    Effect.flatMap(read(configDir, file), (record) =>
      Option.isSome(record) && seen.birthtimeMs > 0 && record.value[field] === seen.birthtimeMs
        ? Effect.map(alive(record.value), (isAlive) => isAlive === false)
        : Effect.succeed(false)
    )
