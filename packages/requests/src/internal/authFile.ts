/**
 * opencode's own credential file, `$XDG_DATA_HOME/opencode/auth.json`: where
 * it is, its Anthropic OAuth entry read without trusting the path, and the
 * lock every opencode process running this plugin takes before it spends the
 * entry's single-use refresh token.
 *
 * opencode itself writes the file (`client.auth.set`); the lock is ours, a
 * directory next to it (`.tollgate-anthropic.lock`, `@tollgate/files`'
 * LockDir with an owner record, so a killed holder's lock is taken over at
 * once). Under it a process re-reads the file and adopts what another process
 * stored instead of refreshing again.
 */
import { LockDir, SafeRead } from "@tollgate/files"
import { homedir } from "node:os"
import { dirname, join } from "node:path"

/** Where opencode keeps its credentials. */
export const defaultAuthFile = (env: Readonly<Record<string, string | undefined>> = process.env): string => {
  const xdg = env["XDG_DATA_HOME"]
  const base = xdg !== undefined && xdg !== "" ? xdg : join(env["HOME"] || homedir(), ".local", "share")
  return join(base, "opencode", "auth.json")
}

/** The lock directory next to `authFile`. */
export const lockPath = (authFile: string): string => join(dirname(authFile), ".tollgate-anthropic.lock")

/** The largest `auth.json` read: a few providers' tokens take a few KB. */
export const MAX_BYTES = 1024 * 1024

/** The Anthropic OAuth entry as opencode stores it (`expires` in epoch ms). */
export interface StoredOAuth {
  readonly access: string
  readonly refresh: string
  readonly expires: number
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The `anthropic` OAuth entry, or `null` when there is none usable: no file,
 * not JSON, another kind of entry, a missing field, or a path that is not a
 * regular file of ours within `MAX_BYTES` (a symlink, a FIFO). Never throws;
 * never puts a token in an error.
 */
export const readAnthropic = async (authFile: string): Promise<StoredOAuth | null> => {
  try {
    const text = await SafeRead.readText(authFile, { maxBytes: MAX_BYTES, mustBeOurs: true })
    if (text === null) return null
    const parsed: unknown = JSON.parse(text)
    const entry = isObject(parsed) ? parsed["anthropic"] : undefined
    if (!isObject(entry) || entry["type"] !== "oauth") return null
    const { access, refresh, expires } = entry
    if (typeof access !== "string" || typeof refresh !== "string" || typeof expires !== "number") return null
    if (access === "" || !Number.isFinite(expires)) return null
    return { access, refresh, expires }
  } catch {
    return null
  }
}

/** A refresh waits this long for another process's; a live holder refreshes its lock meanwhile. */
export const LOCK_WAIT_MS = 15_000

/** Takes the lock next to `authFile`; rejects with `LockDir.LockBusy` when another process held it for `waitMs`. */
export const acquire = (authFile: string, options: LockDir.Options = {}): Promise<LockDir.Lock> =>
  LockDir.acquire(lockPath(authFile), { waitMs: LOCK_WAIT_MS, ...options })
