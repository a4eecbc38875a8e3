/**
 * Per-account state shared by every opencode process on the machine: the last
 * verdict, until when the account is skipped, the quota the unified headers
 * reported, and the token endpoint's backoff. One JSON file in
 * `$XDG_STATE_HOME/tollgate/opencode-accounts.json` (0600, dir 0700), merged
 * and written atomically (`@tollgate/files`' AtomicFile) under its lock
 * directory (`@tollgate/files`' LockDir, with an owner record), so concurrent
 * processes never lose each other's updates. A process killed at any point
 * leaves nothing that delays the next write: its lock is taken over at once
 * when its owner record proves it dead (after 10 s in the few syscalls
 * before the record exists), and its temp files are removed by the next
 * writer under the lock. A process that exits or gets SIGTERM mid-change
 * finishes the change synchronously and leaves no lock or temp file.
 *
 * Keys name an account, never hold a secret. They should survive a refresh:
 * {@link identityKey} (`oauth:id:<account uuid>`) rather than a refresh
 * token's fingerprint, which changes with every rotation; {@link
 * AccountStore.rekey} moves what an older key recorded. Entries nobody wrote
 * for 30 days (and that skip nothing) are dropped on the next write.
 *
 * @since 0.1.0
 */
import type * as Backoff from "@tollgate/core/Backoff"
import { join } from "node:path"
import * as Xdg from "@tollgate/files/Xdg"
import * as State from "./internal/accountState.js"

/** The lock's timings (stale, wait, retry, heartbeat), for a caller that needs other than the defaults. @since 0.1.0 */
export type { LockOptions } from "./internal/accountState.js"

/**
 * One account's entry in the state file: last verdict, skip-until, blocked
 * fingerprint and the quota the unified headers reported.
 *
 * @since 0.1.0
 */
export type AccountState = State.AccountState

/** The whole state file: every account's entry and the token endpoint's backoff state. @since 0.1.0 */
export type StoreFile = State.StoreFile

/**
 * The state file shared by every opencode process: read it, or change one account
 * under the lock so no process loses another's update.
 *
 * @since 0.1.0
 */
export interface AccountStore {
  readonly path: string
  /** The file as it is now (no lock); an unreadable file reads as empty. */
  readonly read: () => Promise<StoreFile>
  /** The last file this store read or wrote. */
  readonly cached: () => StoreFile
  /**
   * Merges a patch into one account under the lock; resolves with the merged
   * file once it is renamed into place. Await it before answering a request
   * whose outcome it records. One still running when the process exits
   * (`process.exit`) or gets SIGTERM is done synchronously on the way out,
   * unless another process holds the lock then; a SIGKILL loses it.
   * Rejects when the file cannot be written or the lock not taken (15 s).
   */
  readonly update: (key: string, patch: Partial<Omit<AccountState, "updatedAt">>) => Promise<StoreFile>
  /** Merges backoff entries (the later `until` wins per key) under the lock; await it like `update`. */
  readonly mergeBackoff: (state: Backoff.State) => Promise<StoreFile>
  /**
   * Moves what was recorded under `from` (e.g. a refresh token's
   * fingerprint) to `to` (e.g. an {@link identityKey}), its backoff
   * entries too, under the lock; a newer entry already under `to` wins.
   * Does nothing (no write) when `from` has no state.
   *
   * @since 0.2.0
   */
  readonly rekey: (from: string, to: string) => Promise<StoreFile>
}

/**
 * The key for an account identity that survives a refresh, e.g.
 * `identityKey("oauth", accountUuid)` → `oauth:id:<uuid>`.
 *
 * @since 0.2.0
 */
export const identityKey: (kind: string, id: string) => string = State.identityKey

/** How the store takes the file's lock; the defaults suit everyone but tests. @since 0.2.0 */
export interface Options {
  /** The lock's timings (default: taken over after 10 s untouched, waited for 15 s). */
  readonly lock?: State.LockOptions | undefined
}

/** Where the file lives. @since 0.1.0 */
export const defaultPath = (env: Xdg.Env = process.env): string => join(Xdg.stateDir(env), "opencode-accounts.json")

/** A store for the file at `path`. Nothing is read or locked until a method is called. @since 0.1.0 */
export const make = (path: string = defaultPath(), options: Options = {}): AccountStore => {
  let last: StoreFile = State.empty()
  const read = async () => {
    last = await State.readFile(path)
    return last
  }
  const mutate = async (f: (file: StoreFile) => StoreFile | null) => {
    // What a process ending mid-change does synchronously instead (see State.withLock).
    const change: State.Change = (file) => {
      const changed = f(file)
      return changed === null ? null : State.prune(changed, Date.now())
    }
    last = await State.withLock(
      path,
      async () => {
        const current = await State.readFile(path)
        const next = change(current)
        if (next === null) return current
        await State.writeFile(path, next)
        return next
      },
      options.lock,
      change
    )
    return last
  }
  return {
    path,
    read,
    cached: () => last,
    update: (key, patch) => mutate((file) => State.mergeAccount(file, key, patch, Date.now())),
    mergeBackoff: (state) => mutate((file) => State.mergeBackoff(file, state)),
    rekey: (from, to) =>
      mutate((file) =>
        from === to ||
        (file.accounts[from] === undefined && !Object.keys(file.backoff).some((k) => k.endsWith(` ${from}`)))
          ? null
          : State.rekey(file, from, to)
      )
  }
}
