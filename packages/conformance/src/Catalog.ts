/**
 * The named scenario catalog: every row of the reference's error tables,
 * every Retry-After form, token rotation, stale tokens, SSE-embedded limits,
 * unified headers, Cloudflare blocks and transport faults.
 *
 * @since 0.1.0
 */
import type { Expectation, Scenario, Step } from "./Scenario.js"

const JSON_TYPE = { "content-type": "application/json" }
const envelope = (type: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "error", error: { type, message, ...extra }, request_id: "req_simcatalog" })
const oauth = (error: string, description?: string) =>
  JSON.stringify(description === undefined ? { error } : { error, error_description: description })
const step = (status: number, body: string, headers: Record<string, string> = {}, extra: Partial<Step> = {}): Step => ({
  status,
  headers: { ...JSON_TYPE, ...headers },
  body,
  ...extra
})
const api = (
  name: string,
  summary: string,
  endpoint: "messages" | "usage" | "profile" | "token",
  s: Step,
  expect: Expectation,
  tags: Scenario["tags"] = ["error-table"]
): Scenario => ({ name, summary, script: { [endpoint]: [s] }, expect: { [endpoint]: expect }, tags })

const rateLimited = envelope("rate_limit_error", "Rate limited. Please try again later.")
const retryAfter = (
  name: string,
  summary: string,
  headers: Record<string, string>,
  expect: Partial<Expectation>,
  times: Step["times"] = 1
): Scenario => ({
  name,
  summary,
  script: { usage: [step(429, rateLimited, headers, { times })] },
  expect: { usage: { tag: "RateLimited", limitKind: "throttle", ...expect } },
  tags: ["retry-after"]
})

const SCOPES_WITHOUT_PROFILE = ["user:inference", "user:sessions:claude_code"]
const usageFine = { tag: "Ok" }

/**
 * Every scenario, in a stable order.
 *
 * @since 0.1.0
 */
export const catalog: ReadonlyArray<Scenario> = [
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
  ),
  api(
    "expired-401",
    "a 401 'OAuth token has expired' asks for a refresh",
    "messages",
    step(
      401,
      envelope(
        "authentication_error",
        "OAuth token has expired. Please obtain a new token or refresh your existing token."
      )
    ),
    { tag: "TokenExpired", reason: "server", action: "refresh" }
  ),
  api(
    "invalid-credentials-401",
    "a 401 'Invalid authentication credentials' refreshes once, then asks for a login",
    "messages",
    step(401, envelope("authentication_error", "Invalid authentication credentials")),
    { tag: "TokenInvalid", action: "refresh" }
  ),
  api(
    "invalid-bearer-401",
    "a 401 'Invalid bearer token' on usage is an invalid token",
    "usage",
    step(401, envelope("authentication_error", "Invalid bearer token")),
    { tag: "TokenInvalid" }
  ),
  api(
    "revoked-401",
    "a revoked token needs a new login",
    "messages",
    step(401, envelope("authentication_error", "OAuth token has been revoked")),
    { tag: "TokenRevoked", action: "reauthenticate" }
  ),
  api(
    "revoked-403",
    "a revoked token as a 403 needs a new login",
    "profile",
    step(403, envelope("permission_error", "OAuth token has been revoked")),
    { tag: "TokenRevoked" }
  ),
  api(
    "org-policy-401",
    "an org that forbids OAuth: no refresh, no retry, switch account",
    "messages",
    step(401, envelope("authentication_error", "OAuth authentication is currently not allowed for this organization.")),
    { tag: "OrgPolicyDenied", action: "switch_account", retryable: false }
  ),
  api(
    "org-policy-403-usage",
    "an org-policy 403 on usage is not a missing scope and not a quota backoff",
    "usage",
    step(403, envelope("permission_error", "OAuth authentication is currently not allowed for this organization.")),
    { tag: "OrgPolicyDenied", endpoint: "usage" }
  ),
  api(
    "org-policy-403-token",
    "an org-policy 403 from the token endpoint arms the refresh backoff only",
    "token",
    step(403, envelope("permission_error", "OAuth authentication is currently not allowed for this organization.")),
    { tag: "OrgPolicyDenied", endpoint: "token" }
  ),
  api(
    "throttle-429",
    "a per-minute throttle on messages is a short wait, not the subscription cap",
    "messages",
    step(429, rateLimited, { "retry-after": "20", "anthropic-ratelimit-requests-remaining": "0" }),
    { tag: "RateLimited", limitKind: "throttle", retryAfterMs: 20_000 },
    ["error-table", "unified"]
  ),
  api(
    "subscription-cap-5h",
    "the five-hour cap: wait for its reset (unified status rejected)",
    "messages",
    step(
      429,
      envelope("rate_limit_error", "This request would exceed your account's rate limit. Please try again later."),
      {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
        "anthropic-ratelimit-unified-reset": "{{epoch-s:+7200}}",
        "anthropic-ratelimit-unified-5h-utilization": "1.0"
      }
    ),
    { tag: "RateLimited", limitKind: "subscription_cap", claim: "five_hour", action: "wait" },
    ["error-table", "unified"]
  ),
  api(
    "subscription-cap-7d",
    "the weekly cap, reset read from the 7d header",
    "messages",
    step(429, envelope("rate_limit_error", "This request would exceed your account's rate limit."), {
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-representative-claim": "seven_day",
      "anthropic-ratelimit-unified-7d-reset": "{{epoch-s:+172800}}"
    }),
    { tag: "RateLimited", limitKind: "subscription_cap", claim: "seven_day" },
    ["unified"]
  ),
  api(
    "overloaded-529",
    "529 is Anthropic's capacity, not the user's quota",
    "messages",
    step(529, envelope("overloaded_error", "Overloaded")),
    { tag: "Overloaded", action: "backoff" }
  ),
  api(
    "server-error-500",
    "any other 5xx backs off",
    "profile",
    step(500, envelope("api_error", "Internal server error")),
    { tag: "ServerError" }
  ),
  api("not-found-404", "a 404 means a wrong base URL", "usage", step(404, envelope("not_found_error", "Not found")), {
    tag: "NotFound",
    action: "fix_client"
  }),
  api(
    "claude-code-only-400",
    "Anthropic refuses this client for this token",
    "messages",
    step(
      400,
      envelope(
        "invalid_request_error",
        "This credential is only authorized for use with Claude Code and cannot be used for other API requests."
      )
    ),
    { tag: "ClientRejected", reason: "claude_code_only" }
  ),
  api(
    "version-too-old-400",
    "the client version is rejected for this model",
    "messages",
    step(
      400,
      envelope(
        "invalid_request_error",
        "Claude Code 2.0.0 does not support this model; version 2.1.0 or newer is required.",
        { details: { error_code: "claude_code_version_too_old" } }
      )
    ),
    { tag: "ClientRejected", reason: "version_too_old" }
  ),
  api(
    "out-of-extra-usage-400",
    "out of extra usage: switch account or enable extra usage",
    "messages",
    step(
      400,
      envelope(
        "invalid_request_error",
        "You're out of extra usage. Add more at claude.ai/settings/usage and keep going."
      )
    ),
    { tag: "ExtraUsageRequired", action: "switch_account" }
  ),
  api(
    "third-party-extra-usage-429",
    "third-party apps draw from extra usage",
    "messages",
    step(429, envelope("rate_limit_error", "Third-party apps now draw from your extra usage, not your plan limits.")),
    { tag: "ExtraUsageRequired" }
  ),
  api(
    "long-context-extra-usage-400",
    "long context needs extra usage",
    "messages",
    step(400, envelope("invalid_request_error", "Extra usage is required for long context requests.")),
    { tag: "ExtraUsageRequired" }
  ),
  {
    name: "sse-rate-limit",
    summary: "a rate_limit_error inside a 200 SSE stream is detected",
    script: {
      messages: [
        {
          status: 200,
          headers: { "content-type": "text/event-stream" },
          body:
            'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_sim","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":1,"output_tokens":0}}}\n\n' +
            'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Rate limited. Please try again later."}}\n\n'
        }
      ]
    },
    expect: { messages: { tag: "RateLimited" } },
    tags: ["sse", "error-table"]
  },
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
  },
  api(
    "edge-1010",
    "Cloudflare 1010 (missing or banned UA) is an edge block, not an OAuth verdict",
    "token",
    { status: 403, headers: { "content-type": "text/plain" }, body: "error code: 1010" },
    { tag: "EdgeBlocked", reason: "cloudflare_1010" },
    ["edge"]
  ),
  api(
    "edge-challenge",
    "a Cloudflare challenge page is an edge block",
    "usage",
    {
      status: 403,
      headers: { "content-type": "text/html; charset=UTF-8" },
      body: '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body></body></html>'
    },
    { tag: "EdgeBlocked", reason: "challenge" },
    ["edge"]
  ),
  retryAfter(
    "retry-after-seconds",
    "Retry-After in delta-seconds is honoured",
    { "retry-after": "3600" },
    { retryAfterMs: 3_600_000 }
  ),
  retryAfter(
    "retry-after-http-date",
    "Retry-After as an HTTP-date is honoured relative to the clock",
    { "retry-after": "{{http-date:+900}}" },
    {}
  ),
  retryAfter(
    "retry-after-ms",
    "retry-after-ms wins over Retry-After",
    { "retry-after-ms": "2500", "retry-after": "60" },
    { retryAfterMs: 2500 }
  ),
  retryAfter(
    "retry-after-zero-persists",
    "retry-after: 0 that persists counts as absent: calls are spaced by the policy floor",
    { "retry-after": "0" },
    { retryAfterMs: null },
    "always"
  ),
  retryAfter(
    "retry-after-garbage",
    "a garbage Retry-After counts as absent",
    { "retry-after": "when pigs fly" },
    { retryAfterMs: null }
  ),
  retryAfter(
    "retry-after-huge",
    "an absurd Retry-After is capped",
    { "retry-after": "31536000000" },
    { retryAfterMs: 6 * 3600_000 }
  ),
  {
    name: "transport-reset",
    summary: "a connection reset is a transport failure, retried with backoff",
    script: { usage: [{ status: 200, fault: "reset" }] },
    expect: { usage: { tag: "Transport", reason: "reset" } },
    tags: ["transport"]
  },
  {
    name: "transport-hang",
    summary: "a server that never answers ends at the request deadline",
    script: { profile: [{ status: 200, fault: "hang" }] },
    expect: { profile: { tag: "Transport", reason: "timeout" } },
    tags: ["transport"]
  },
  {
    name: "transport-stall",
    summary: "a body that stalls half way ends at the request deadline",
    script: {
      usage: [
        {
          status: 200,
          headers: JSON_TYPE,
          body: JSON.stringify({ five_hour: { utilization: 1, resets_at: null } }),
          fault: "stall"
        }
      ]
    },
    expect: { usage: { tag: "Transport", reason: "timeout" } },
    tags: ["transport"]
  },
  {
    name: "truncated-json",
    summary: "a 200 with truncated JSON is a decode failure, not a success",
    script: {
      usage: [
        {
          status: 200,
          headers: JSON_TYPE,
          body: JSON.stringify({ five_hour: { utilization: 1, resets_at: null } }),
          fault: "truncate"
        }
      ]
    },
    expect: { usage: { tag: "Decode" } },
    tags: ["transport"]
  },
  {
    name: "huge-body",
    summary: "a multi-megabyte body is read only up to the cap",
    script: { profile: [{ status: 200, headers: JSON_TYPE, body: "{}", bodyBytes: 4 * 1024 * 1024 }] },
    expect: { profile: { tag: "Decode" } },
    tags: ["transport"]
  }
]

/**
 * A scenario by name; throws a clear error for an unknown name.
 *
 * @since 0.1.0
 */
export const find = (name: string): Scenario => {
  const found = catalog.find((s) => s.name === name)
  if (!found) throw new Error(`unknown scenario "${name}"; \`tollgate sim --list\` names them`)
  return found
}
