import * as C from "../Classification.js"
import type * as Credential from "../Credential.js"
import type { Endpoint } from "../Endpoint.js"
import * as Scopes from "../Scopes.js"

// What we know without asking: a missing scope, or a token past its expiresAt
// (the usage endpoint would answer it with a misleading 429).
export const refusal = (
  endpoint: Endpoint,
  capability: Scopes.Capability,
  now: number,
  credential: Credential.Snapshot | undefined
): C.Failure | null => {
  if (!credential) return null
  const common = { endpoint, status: null, retryAfterMs: null, requestId: null } as const
  const check = Scopes.check(credential.scopes, capability)
  if (check._tag === "Missing") {
    return new C.MissingScope({ ...common, action: "skip_endpoint", retryable: false, scope: check.scope })
  }
  if (credential.expiresAt !== null && now >= credential.expiresAt) {
    return new C.TokenExpired({ ...common, action: "refresh", retryable: true, reason: "stale" })
  }
  return null
}
