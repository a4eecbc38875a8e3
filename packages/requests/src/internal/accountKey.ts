/**
 * The key an account's shared state goes under (the account-state file, the
 * token endpoint's backoff): names an account, never holds a secret, and
 * survives a refresh.
 */
import { fingerprint } from "@tollgate/core/Credential"
import type { Login } from "./account.js"

/**
 * - An OAuth login by its slot: `oauth:auth.json` for the first account (the
 *   login opencode keeps in its `auth.json`), `oauth:account-<n>` for others.
 *   Not its refresh token's fingerprint: that changes at every rotation, and
 *   with it the key, so a skip or backoff one process recorded would be lost
 *   to the next process after any refresh. A token response names the
 *   account (`account.uuid`), but opencode's `auth.json` does not keep it, so
 *   a process that has not refreshed yet cannot know it; the slot it can.
 *   A replaced login is told apart by {@link credentialFingerprint}: the token
 *   backoff blocks only the refresh token it refused, and a skip "until a new
 *   login" holds only while the stored login is the one it was recorded for.
 * - An API key by its fingerprint (it never rotates).
 * - A Claude Code login by its position.
 */
export const accountKey = (login: Login, index: number): string => {
  switch (login.type) {
    case "api":
      return `api:${fingerprint(login.key)}`
    case "oauth":
      return index === 0 ? "oauth:auth.json" : `oauth:account-${index + 1}`
    case "claude-code":
      return `claude-code:${index}`
  }
}

/**
 * The fingerprint of the credential a login presents (its refresh token, else
 * its access token, or its API key): what a "blocked until the credential
 * changes" verdict is recorded against. `null` for a Claude Code login, whose
 * tokens live in Claude Code's store.
 */
export const credentialFingerprint = (login: Login): string | null => {
  switch (login.type) {
    case "api":
      return fingerprint(login.key)
    case "oauth":
      return fingerprint(login.refresh ?? login.access)
    case "claude-code":
      return null
  }
}

/**
 * The key this login's state had before keys survived a refresh
 * (`oauth:<refresh token fingerprint>`): `AccountStore.rekey(legacyKey(login),
 * accountKey(login, index))` carries it over. `null` when the key did not change.
 */
export const legacyKey = (login: Login, index: number): string | null => {
  if (login.type !== "oauth") return null
  const old = `oauth:${fingerprint(login.refresh ?? login.access)}`
  return old === accountKey(login, index) ? null : old
}
