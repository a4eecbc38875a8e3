// Scenarios about the login itself: a healthy one, expiry and refresh-token rotation, missing scopes.
import type { Scenario } from "../../Scenario.js"
import { api, envelope, step } from "./rows.js"

const SCOPES_WITHOUT_PROFILE = ["user:inference", "user:sessions:claude_code"]
const usageFine = { tag: "Ok" }

export const loginScenarios: ReadonlyArray<Scenario> = [
  {
    name: "happy-path",
    summary: "a healthy login: usage, profile and messages answer, nothing is refreshed",
    expect: { usage: usageFine, profile: usageFine, messages: usageFine },
    tags: ["ok"]
  },
  {
    name: "expired-access-token",
    summary: "an access token past expiresAt is refreshed once, then everything works",
    account: { expiresInMs: -60_000 },
    expect: { usage: { tag: "TokenExpired", reason: "stale" }, token: usageFine },
    tags: ["rotation"]
  },
  {
    name: "rotation-omits-refresh-token",
    summary: "a refresh response without refresh_token keeps the old refresh token valid",
    account: { expiresInMs: -60_000, omitRefreshToken: true },
    expect: { token: usageFine },
    tags: ["rotation"]
  },
  {
    name: "rotated-by-another-process",
    summary: "the refresh token was already rotated elsewhere: invalid_grant, re-read the store, never blank it",
    account: { expiresInMs: -60_000 },
    setup: "rotate-elsewhere",
    expect: { token: { tag: "RefreshRejected", reason: "invalid_grant", action: "reauthenticate" } },
    tags: ["rotation"]
  },
  {
    name: "stale-token-429",
    summary: "the usage endpoint answers a stale token with 429; tollgate calls it an expiry and does not poll",
    account: { expiresInMs: -60_000 },
    expect: { usage: { tag: "TokenExpired", reason: "stale", action: "refresh" } },
    tags: ["rotation", "error-table"]
  },
  {
    name: "missing-profile-scope",
    summary: "a token without user:profile never calls the usage endpoint",
    account: { scopes: SCOPES_WITHOUT_PROFILE },
    expect: { usage: { tag: "MissingScope", scope: "user:profile", action: "skip_endpoint" } },
    tags: ["scopes"]
  },
  {
    name: "setup-token",
    summary: "a setup-token (inference only, no refresh token) can send messages but never reads usage",
    account: { setupToken: true },
    expect: { usage: { tag: "MissingScope", scope: "user:profile" }, messages: usageFine },
    tags: ["scopes"]
  },
  api(
    "scope-403-unknown-scopes",
    "with unknown scopes the usage call is tried once and its scope 403 is believed",
    "usage",
    step(403, envelope("permission_error", "OAuth token does not meet scope requirement\n    user:profile")),
    { tag: "MissingScope", scope: "user:profile", retryable: false },
    ["scopes", "error-table"]
  )
]
