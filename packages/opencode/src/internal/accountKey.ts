/**
 * The key an account's shared state goes under (the account-state file, the
 * token endpoint's backoff): names an account, never holds a secret.
 */
import { fingerprint } from "@tollgate/core/Credential"
import type { Login } from "./account.js"

/**
 * The fingerprint of its refresh token or API key, never the secret; a Claude
 * Code login by its position.
 */
export const accountKey = (login: Login, index: number): string => {
  switch (login.type) {
    case "api":
      return `api:${fingerprint(login.key)}`
    case "oauth":
      return `oauth:${fingerprint(login.refresh ?? login.access)}`
    case "claude-code":
      return `claude-code:${index}`
  }
}
