/**
 * Claude Code's refresh locks, taken the way Claude Code 2.1.330 takes them,
 * so tollgate and Claude Code never refresh (and so rotate) the same login at
 * once.
 *
 * To refresh, Claude Code creates the directory `<configDir>/.oauth_refresh.lock`,
 * then the legacy directory `realpath(<configDir>) + ".lock"` (proper-lockfile
 * locks: the holder refreshes their mtime every 5 s, anyone may remove one
 * whose mtime is over 60 s old), and writes `.oauth_refresh.lock.owner` naming
 * its process. Around the write of `.credentials.json` it holds
 * `<configDir>/.storage-write.lock` (stale after 15 s). It removes all of them
 * when done.
 *
 * A lock whose owner record names a process that provably no longer runs
 * (same pid namespace; the pid gone, a zombie, or reused with another start
 * time) is taken over at once, as Claude Code does, instead of after its
 * staleness: a tollgate killed mid-refresh never makes the next one wait.
 * For `.storage-write.lock`, which Claude Code keeps no record for, tollgate
 * writes its own (`.storage-write.lock.tollgate-owner`, same format).
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { acquireAll, call, heartbeat, type LockBusy, type LockIo, statOrNull } from "./internal/lockDir.js"
import * as Owner from "./internal/lockOwner.js"
import type { Location } from "./StoreLocation.js"

/** The refresh lock directory's name under the config dir, as Claude Code creates it. @since 0.1.0 */
export const REFRESH_LOCK = ".oauth_refresh.lock"

/**
 * The name of the refresh lock's owner record under the config dir: the file
 * that lets Claude Code and tollgate take over a lock whose holder is gone.
 *
 * @since 0.1.0
 */
export const OWNER_FILE = Owner.OWNER_FILE

/** The lock directory Claude Code holds around each write of `.credentials.json`. @since 0.1.0 */
export const STORAGE_WRITE_LOCK = ".storage-write.lock"

/** The schema of a lock's name, as `LockError.lock` carries it. @since 0.1.0 */
export const Lock = Schema.Literal("refresh", "storage-write")

/** Which of Claude Code's locks: the refresh lock or the storage-write lock. @since 0.1.0 */
export type Lock = typeof Lock.Type

/**
 * A lock could not be taken: someone held it for the whole wait, or the file
 * system refused. `message` names the holder when its owner record does.
 *
 * @since 0.1.0
 */
export class LockError extends Schema.TaggedError<LockError>("@tollgate/claude-credentials/LockError")("LockError", {
  lock: Lock,
  reason: Schema.Literal("timeout", "io"),
  /** The lock directory (or the config directory when it is missing). */
  where: Schema.String,
  /** A safe detail: an errno code. */
  detail: Schema.optional(Schema.String),
  /** The holder's pid, from the owner record. */
  holderPid: Schema.optional(Schema.Number),
  /** How long we waited before giving up. */
  waitedMs: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const what = this.lock === "refresh" ? "Claude Code's login refresh lock" : "the credential store's write lock"
    if (this.reason === "io") {
      return `Could not use ${what} (${this.where})${this.detail ? ` [${this.detail}]` : ""}; nothing was changed.`
    }
    const ms = this.waitedMs ?? 0
    const waited = ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`
    const holder = this.holderPid !== undefined ? `process ${this.holderPid} (per its owner record)` : "another process"
    const doing = this.lock === "refresh" ? "refreshing the login" : "saving the login"
    return `${what} (${this.where}) was held by ${holder} for the whole ${waited} wait, probably Claude Code ${doing}; nothing was changed. Try again in a moment.`
  }
}

/**
 * How to take a lock. Every duration is in milliseconds and read from
 * Effect's `Clock`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** A lock whose mtime is older than this belongs to a dead holder and is taken over. */
  readonly staleMs?: number | undefined
  /** How often the holder refreshes the lock's mtime; keep it well under `staleMs`. */
  readonly heartbeatMs?: number | undefined
  /** How long to wait in all for a lock someone else holds before failing with `timeout`. */
  readonly waitMs?: number | undefined
  /** The base interval between looks at a held lock, jittered by ±50%. */
  readonly retryMs?: number | undefined
}

/**
 * Claude Code's values for the refresh lock (proper-lockfile `stale: 60000, update: 5000`).
 *
 * @since 0.1.0
 */
export const refreshDefaults = { staleMs: 60_000, heartbeatMs: 5_000, waitMs: 30_000, retryMs: 100 } as const

/**
 * Claude Code's values for the storage-write lock: it uses `stale: 15000`
 * there, so it would take ours over after 15 s anyway.
 *
 * @since 0.1.0
 */
export const storageWriteDefaults = { staleMs: 15_000, heartbeatMs: 5_000, waitMs: 30_000, retryMs: 100 } as const

type Timings = { readonly [K in keyof Options]-?: number }

const timing = (defaults: Timings, options: Options = {}): Timings => ({
  staleMs: options.staleMs ?? defaults.staleMs,
  heartbeatMs: options.heartbeatMs ?? defaults.heartbeatMs,
  waitMs: options.waitMs ?? defaults.waitMs,
  retryMs: options.retryMs ?? defaults.retryMs
})

/** Claude Code resolves the config dir's symlinks for the legacy lock (`~/.claude.lock`). */
const legacyLockPath = (location: Location): Effect.Effect<string, LockError> =>
  call(location.configDir, () => fs.realpath(location.configDir)).pipe(
    Effect.map((real) => `${real}.lock`),
    Effect.mapError((e) => new LockError({ lock: "refresh", reason: "io", where: e.path, detail: e.code }))
  )

const toLockError = (lock: Lock, location: Location) => (e: LockBusy | LockIo) =>
  e._tag === "LockIo"
    ? Effect.fail(new LockError({ lock, reason: "io", where: e.path, detail: e.code }))
    : Effect.flatMap(lock === "refresh" ? Owner.read(location.configDir) : Effect.succeed(Option.none()), (owner) =>
        Effect.fail(
          new LockError({
            lock,
            reason: "timeout",
            where: e.path,
            waitedMs: e.waitedMs,
            ...(Option.isSome(owner) ? { holderPid: owner.value.pid } : {})
          })
        )
      )

const holdRefresh = (location: Location, options?: Options): Effect.Effect<void, LockError, Scope.Scope> =>
  Effect.gen(function* () {
    const t = timing(refreshDefaults, options)
    const legacy = yield* legacyLockPath(location)
    const [primary, legacyHeld] = yield* acquireAll(
      [
        {
          path: path.join(location.configDir, REFRESH_LOCK),
          abandoned: Owner.abandoned(location.configDir, Owner.OWNER_FILE, "lockBirthtimeMs")
        },
        { path: legacy, abandoned: Owner.abandoned(location.configDir, Owner.OWNER_FILE, "legacyLockBirthtimeMs") }
      ],
      t
    ).pipe(Effect.catchAll(toLockError("refresh", location)))
    // Claude Code writes no record when the file system has no birth times; neither do we.
    if (primary !== undefined && primary.birthtimeMs > 0) {
      yield* Effect.acquireRelease(
        Owner.write(location.configDir, Owner.recordFor(primary.birthtimeMs, legacyHeld?.birthtimeMs)),
        () => Owner.removeIfOurs(location.configDir, primary.birthtimeMs)
      )
    }
    // Forked last so that on release it stops first, before the locks it touches are removed.
    yield* Effect.forkScoped(
      heartbeat(
        [primary, legacyHeld].filter((h) => h !== undefined),
        t.heartbeatMs
      )
    )
  })

const holdStorageWrite = (location: Location, options?: Options): Effect.Effect<void, LockError, Scope.Scope> =>
  Effect.gen(function* () {
    const t = timing(storageWriteDefaults, options)
    const held = yield* acquireAll(
      [
        {
          path: path.join(location.configDir, STORAGE_WRITE_LOCK),
          abandoned: Owner.abandoned(location.configDir, Owner.STORAGE_WRITE_OWNER_FILE, "lockBirthtimeMs")
        }
      ],
      t
    ).pipe(Effect.catchAll(toLockError("storage-write", location)))
    const lock = held[0]
    if (lock !== undefined && lock.birthtimeMs > 0) {
      yield* Effect.acquireRelease(
        Owner.write(location.configDir, Owner.recordFor(lock.birthtimeMs, undefined), Owner.STORAGE_WRITE_OWNER_FILE),
        () => Owner.removeIfOurs(location.configDir, lock.birthtimeMs, Owner.STORAGE_WRITE_OWNER_FILE)
      )
    }
    yield* Effect.forkScoped(heartbeat(held, t.heartbeatMs))
  })

const around =
  (hold: Effect.Effect<void, LockError, Scope.Scope>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | LockError, R> =>
    // The scope closes on success, failure and interruption alike, releasing in reverse order:
    // heartbeat, owner record, legacy lock, refresh lock.
    Effect.scopedWith((scope) => Effect.zipRight(Scope.extend(hold, scope), effect))

/**
 * Runs `effect` holding Claude Code's refresh locks (`.oauth_refresh.lock`,
 * then the legacy `<configDir>.lock`) with an owner record and a heartbeat,
 * waiting while someone else holds them and taking over only a stale lock.
 * Everything is released however `effect` ends. The config directory must
 * exist: there is nothing to refresh without a store.
 *
 * @since 0.1.0
 */
export const withRefreshLock = (
  location: Location,
  options?: Options
): (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LockError, R>) =>
  around(holdRefresh(location, options))

/**
 * Runs `effect` holding `<configDir>/.storage-write.lock`, the lock Claude
 * Code holds around every write of its store. Same protocol, no legacy lock
 * and no owner record.
 *
 * @since 0.1.0
 */
export const withStorageWriteLock = (
  location: Location,
  options?: Options
): (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LockError, R>) =>
  around(holdStorageWrite(location, options))

/**
 * A snapshot of the locks, for `tollgate doctor`.
 *
 * @since 0.1.0
 */
export interface LockState {
  /** `.oauth_refresh.lock` exists. */
  readonly held: boolean
  /** It exists and has not been touched for longer than `staleMs`: its holder is gone. */
  readonly stale: boolean
  /** Milliseconds since its mtime, or `null` when it is not held. */
  readonly ageMs: number | null
  /** From the owner record; `alive` is `null` when the holder runs where we cannot see it. */
  readonly owner: { readonly pid: number | null; readonly alive: boolean | null } | null
  /** The legacy `<configDir>.lock` exists. */
  readonly legacyHeld: boolean
  /** `.storage-write.lock` exists. */
  readonly storageWriteHeld: boolean
}

const exists = (p: string): Effect.Effect<boolean> =>
  statOrNull(p).pipe(
    Effect.map((s) => s !== null),
    Effect.orElseSucceed(() => false)
  )

/**
 * Reads the state of Claude Code's locks without touching them. Never fails:
 * what cannot be read is reported as not held.
 *
 * @since 0.1.0
 */
export const inspect = (location: Location, options?: Pick<Options, "staleMs">): Effect.Effect<LockState> =>
  Effect.gen(function* () {
    const staleMs = options?.staleMs ?? refreshDefaults.staleMs
    const lock = yield* statOrNull(path.join(location.configDir, REFRESH_LOCK)).pipe(Effect.orElseSucceed(() => null))
    const now = yield* Clock.currentTimeMillis
    // proper-lockfile sets the mtime up to a second ahead when it creates the lock.
    const ageMs = lock === null ? null : Math.max(0, Math.round(now - lock.mtimeMs))
    const text = yield* Owner.readText(location.configDir)
    const record = Option.flatMap(text, Owner.parse)
    const owner = Option.isSome(record)
      ? { pid: record.value.pid, alive: yield* Owner.alive(record.value) }
      : Option.isSome(text)
        ? { pid: Owner.pidOf(text.value), alive: null }
        : null
    const legacy = yield* legacyLockPath(location).pipe(Effect.option)
    return {
      held: lock !== null,
      stale: ageMs !== null && ageMs > staleMs,
      ageMs,
      owner,
      legacyHeld: Option.isSome(legacy) ? yield* exists(legacy.value) : false,
      storageWriteHeld: yield* exists(path.join(location.configDir, STORAGE_WRITE_LOCK))
    }
  })
