/**
 * Per-account state shared by every opencode process on the machine: the last
 * verdict, until when the account is skipped, the quota the unified headers
 * reported, and the token endpoint's backoff. One JSON file in
 * `$XDG_STATE_HOME/tollgate/opencode-accounts.json` (0600, dir 0700), merged
 * and written atomically (temp + rename) under a mkdir lock with stale
 * takeover, so concurrent processes never lose each other's updates.
 *
 * Keys are credential fingerprints, never tokens.
 *
 * @since 0.1.0
 */
import type * as Backoff from "@tollgate/core/Backoff"
import { homedir } from "node:os"
import { join } from "node:path"
import * as State from "./internal/accountState.js"

/** @since 0.1.0 */
export type AccountState = State.AccountState

/** @since 0.1.0 */
export type StoreFile = State.StoreFile

/** @since 0.1.0 */
export interface AccountStore {
  readonly path: string
  /** The file as it is now (no lock); an unreadable file reads as empty. */
  readonly read: () => Promise<StoreFile>
  /** The last file this store read or wrote. */
  readonly cached: () => StoreFile
  /** Merges a patch into one account under the lock; returns the merged file. */
  readonly update: (key: string, patch: Partial<Omit<AccountState, "updatedAt">>) => Promise<StoreFile>
  /** Merges backoff entries (the later `until` wins per key) under the lock. */
  readonly mergeBackoff: (state: Backoff.State) => Promise<StoreFile>
}

/** Where the file lives. @since 0.1.0 */
export const defaultPath = (env: Readonly<Record<string, string | undefined>> = process.env): string => {
  const xdg = env["XDG_STATE_HOME"]
  const base = xdg !== undefined && xdg !== "" ? xdg : join(env["HOME"] || homedir(), ".local", "state")
  return join(base, "tollgate", "opencode-accounts.json")
}

/** @since 0.1.0 */
export const make = (path: string = defaultPath()): AccountStore => {
  let last: StoreFile = State.empty()
  const read = async () => {
    last = await State.readFile(path)
    return last
  }
  const mutate = async (f: (file: StoreFile) => StoreFile) => {
    last = await State.withLock(path, async () => {
      const next = f(await State.readFile(path))
      await State.writeFile(path, next)
      return next
    })
    return last
  }
  return {
    path,
    read,
    cached: () => last,
    update: (key, patch) => mutate((file) => State.mergeAccount(file, key, patch, Date.now())),
    mergeBackoff: (state) => mutate((file) => State.mergeBackoff(file, state))
  }
}
