/**
 * Pure changes to the account-state file's contents: merging an account's
 * verdict or backoff in, re-keying an account, and pruning what has not been
 * touched for `RETAIN_MS`.
 */
import type * as Backoff from "@tollgate/core/Backoff"
import type { AccountState, StoreFile } from "./accountStateFile.js"

/** An account entry no one has written for this long (and not skipped) is dropped: e.g. a retired key. */
export const RETAIN_MS = 30 * 24 * 60 * 60_000
/** JSON has no Infinity; "for good" is stored as this. */
export const FOREVER = Number.MAX_SAFE_INTEGER

/**
 * The key for an account's identity, one that survives a refresh (unlike a
 * refresh token's fingerprint): `oauth:id:<account uuid>`, `claude-code:id:<config dir>`.
 */
export const identityKey = (kind: string, id: string): string => `${kind}:id:${id}`

/** Drops account entries untouched for `RETAIN_MS` that skip nothing, and backoff that ended as long ago. */
export const prune = (file: StoreFile, now: number): StoreFile => {
  const horizon = now - RETAIN_MS
  const accounts = Object.fromEntries(
    Object.entries(file.accounts).filter(
      ([, a]) => a.updatedAt >= horizon || (a.skipUntil !== null && a.skipUntil > now)
    )
  )
  const backoff = Object.fromEntries(
    Object.entries(file.backoff).filter(([, e]) => e.until === null || e.until >= horizon)
  )
  return { ...file, accounts, backoff }
}

/**
 * Moves the state kept under `from` (an old key, e.g. a refresh token's
 * fingerprint) to `to`: the account entry unless `to` has a newer one, and
 * every backoff entry of `from` (`"<endpoint> <key>"`) unless `to`'s holds
 * longer. `from` is gone afterwards.
 */
export const rekey = (file: StoreFile, from: string, to: string): StoreFile => {
  if (from === to) return file
  const accounts: Record<string, AccountState> = { ...file.accounts }
  const old = accounts[from]
  delete accounts[from]
  if (old !== undefined && (accounts[to] === undefined || accounts[to].updatedAt < old.updatedAt)) accounts[to] = old
  const backoff: Record<string, Backoff.Entry> = {}
  const moved: Record<string, Backoff.Entry> = {}
  const suffix = ` ${from}`
  for (const [k, entry] of Object.entries(file.backoff)) {
    if (k.endsWith(suffix)) moved[`${k.slice(0, -suffix.length)} ${to}`] = entry
    else backoff[k] = entry
  }
  return mergeBackoff({ ...file, accounts, backoff }, moved)
}

/** Merges the defined fields of `patch` into an account's entry, stamped `now`; an infinite skip is stored as `FOREVER`. */
export const mergeAccount = (
  file: StoreFile,
  key: string,
  patch: Partial<Omit<AccountState, "updatedAt">>,
  now: number
): StoreFile => {
  const previous: AccountState = file.accounts[key] ?? {
    verdict: null,
    skipUntil: null,
    blockedFingerprint: null,
    fiveHour: null,
    sevenDay: null,
    resetsAt: null,
    updatedAt: 0
  }
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
  const merged: AccountState = { ...previous, ...defined, updatedAt: now }
  const skipUntil =
    merged.skipUntil === null ? null : merged.skipUntil === Number.POSITIVE_INFINITY ? FOREVER : merged.skipUntil
  return { ...file, accounts: { ...file.accounts, [key]: { ...merged, skipUntil } } }
}

/** Merges backoff entries in; where both hold one for a key, the one lasting longer wins. */
export const mergeBackoff = (file: StoreFile, state: Backoff.State): StoreFile => {
  const backoff: Record<string, Backoff.Entry> = { ...file.backoff }
  for (const [k, entry] of Object.entries(state)) {
    const old = backoff[k]
    if (old === undefined || (entry.until ?? 0) >= (old.until ?? 0)) backoff[k] = entry
  }
  return { ...file, backoff }
}
