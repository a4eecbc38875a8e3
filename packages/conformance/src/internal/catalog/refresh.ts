// The token endpoint refusing a refresh: every OAuth error the reference lists, and its 429.
import type { Scenario } from "../../Scenario.js"
import { api, oauth, step } from "./rows.js"

export const refreshScenarios: ReadonlyArray<Scenario> = [
  api(
    "refresh-invalid-grant",
    "a dead refresh token: re-read the store, then ask for a login",
    "token",
    step(400, oauth("invalid_grant", "Refresh token not found or invalid")),
    { tag: "RefreshRejected", reason: "invalid_grant" }
  ),
  api(
    "refresh-token-expired",
    "an expired refresh token",
    "token",
    step(400, oauth("invalid_grant", "Refresh token expired")),
    { tag: "RefreshRejected", reason: "invalid_grant" }
  ),
  api(
    "refresh-invalid-scope",
    "the token endpoint refuses the scopes",
    "token",
    step(400, oauth("invalid_scope", "The requested scope is invalid")),
    { tag: "RefreshRejected", reason: "invalid_scope" }
  ),
  api(
    "refresh-invalid-client",
    "the token endpoint refuses the client",
    "token",
    step(401, oauth("invalid_client", "Client authentication failed")),
    { tag: "RefreshRejected", reason: "invalid_client", action: "fix_client" }
  ),
  api(
    "refresh-unauthorized-client",
    "the client may not use this grant",
    "token",
    step(400, oauth("unauthorized_client")),
    { tag: "RefreshRejected", reason: "unauthorized_client" }
  ),
  api(
    "refresh-account-on-hold",
    "the account is on hold",
    "token",
    step(400, oauth("invalid_request", "account_on_hold")),
    { tag: "RefreshRejected", reason: "account_on_hold" }
  ),
  {
    name: "refresh-429",
    summary: "a 429 from the token endpoint arms the refresh backoff and never delays quota polling",
    account: { expiresInMs: -60_000 },
    script: {
      token: [
        step(
          429,
          JSON.stringify({ error: { type: "rate_limit_error", message: "Rate limited. Please try again later." } }),
          { "retry-after": "600" }
        )
      ]
    },
    expect: { token: { tag: "RateLimited", endpoint: "token", retryAfterMs: 600_000 } },
    tags: ["error-table", "retry-after"]
  }
]
