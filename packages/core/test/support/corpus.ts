// Recorded responses for every error shape in the reference (section 5) and
// every Retry-After form, with the verdict the reference says each deserves.
import type { Reply } from "./server.js"

export const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)

export interface Case {
  readonly name: string
  readonly endpoint: "token" | "usage" | "profile" | "messages"
  readonly reply: Reply
  readonly credential?: { readonly scopes?: ReadonlyArray<string>; readonly expiresAt?: number | null }
  readonly expect: Readonly<Record<string, unknown>> & { readonly tag: string }
  /** Requests the server should see; 1 unless the client must refuse without calling. */
  readonly calls?: number
}

const json = { "content-type": "application/json" }
const envelope = (type: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "error", error: { type, message, ...extra }, request_id: "req_011CTestCorpus" })
const oauth = (error: string, description?: string) =>
  JSON.stringify(description === undefined ? { error } : { error, error_description: description })

const api = (
  name: string,
  endpoint: Case["endpoint"],
  status: number,
  type: string,
  message: string,
  expect: Case["expect"],
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {}
): Case => ({
  name,
  endpoint,
  reply: { status, headers: { ...json, ...headers }, body: envelope(type, message, extra) },
  expect
})

const retryAfter = (name: string, headers: Record<string, string>, retryAfterMs: number | null): Case => ({
  name: `Retry-After: ${name}`,
  endpoint: "usage",
  reply: {
    status: 429,
    headers: { ...json, ...headers },
    body: envelope("rate_limit_error", "Rate limited. Please try again later.")
  },
  expect: { tag: "RateLimited", endpoint: "usage", limitKind: "throttle", retryAfterMs }
})

const usageBody = JSON.stringify({
  five_hour: { utilization: 42, resets_at: "2026-11-25T15:00:00Z" },
  seven_day: { utilization: 13, resets_at: "2026-11-30T00:00:00Z" },
  seven_day_opus: null,
  extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null, currency: null }
})

export const corpus: ReadonlyArray<Case> = [
  api(
    "401 expired",
    "messages",
    401,
    "authentication_error",
    "OAuth token has expired. Please obtain a new token or refresh your existing token.",
    { tag: "TokenExpired", action: "refresh", reason: "server", retryable: true }
  ),
  api("401 invalid credentials", "messages", 401, "authentication_error", "Invalid authentication credentials", {
    tag: "TokenInvalid",
    action: "refresh"
  }),
  api("401 invalid bearer", "usage", 401, "authentication_error", "Invalid bearer token", {
    tag: "TokenInvalid",
    action: "refresh"
  }),
  api("401 revoked", "messages", 401, "authentication_error", "OAuth token has been revoked", {
    tag: "TokenRevoked",
    action: "reauthenticate",
    retryable: false
  }),
  api("403 revoked", "profile", 403, "permission_error", "OAuth token has been revoked", {
    tag: "TokenRevoked",
    action: "reauthenticate"
  }),
  api(
    "401 org policy",
    "messages",
    401,
    "authentication_error",
    "OAuth authentication is currently not allowed for this organization.",
    { tag: "OrgPolicyDenied", action: "switch_account", retryable: false }
  ),
  api(
    "403 org policy on usage",
    "usage",
    403,
    "permission_error",
    "OAuth authentication is currently not allowed for this organization.",
    { tag: "OrgPolicyDenied", endpoint: "usage" }
  ),
  api(
    "403 org policy on token",
    "token",
    403,
    "permission_error",
    "OAuth authentication is currently not allowed for this organization.",
    { tag: "OrgPolicyDenied", endpoint: "token" }
  ),
  api(
    "403 missing user:profile",
    "usage",
    403,
    "permission_error",
    "OAuth token does not meet scope requirement\n    user:profile",
    { tag: "MissingScope", scope: "user:profile", action: "skip_endpoint", retryable: false }
  ),
  api(
    "403 missing user:inference",
    "messages",
    403,
    "permission_error",
    "OAuth token does not meet scope requirement user:inference",
    { tag: "MissingScope", scope: "user:inference", action: "reauthenticate" }
  ),
  api(
    "429 per-minute throttle",
    "messages",
    429,
    "rate_limit_error",
    "Rate limited. Please try again later.",
    { tag: "RateLimited", limitKind: "throttle", retryAfterMs: 30_000, resetsAt: NOW + 30_000 },
    { "retry-after": "30", "anthropic-ratelimit-requests-remaining": "0" }
  ),
  api(
    "429 subscription cap",
    "messages",
    429,
    "rate_limit_error",
    "This request would exceed your account's rate limit. Please try again later.",
    {
      tag: "RateLimited",
      limitKind: "subscription_cap",
      claim: "five_hour",
      resetsAt: NOW + 3 * 3600_000,
      action: "wait"
    },
    {
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-representative-claim": "five_hour",
      "anthropic-ratelimit-unified-reset": String((NOW + 3 * 3600_000) / 1000)
    }
  ),
  api(
    "429 weekly cap via 7d reset",
    "messages",
    429,
    "rate_limit_error",
    "This request would exceed your account's rate limit.",
    { tag: "RateLimited", limitKind: "subscription_cap", claim: "seven_day", resetsAt: NOW + 86_400_000 },
    {
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-representative-claim": "seven_day",
      "anthropic-ratelimit-unified-7d-reset": String((NOW + 86_400_000) / 1000)
    }
  ),
  api("529 overloaded", "messages", 529, "overloaded_error", "Overloaded", {
    tag: "Overloaded",
    action: "backoff",
    retryable: true
  }),
  api(
    "400 Claude Code only",
    "messages",
    400,
    "invalid_request_error",
    "This credential is only authorized for use with Claude Code and cannot be used for other API requests.",
    { tag: "ClientRejected", reason: "claude_code_only", action: "fix_client" }
  ),
  api(
    "400 version too old",
    "messages",
    400,
    "invalid_request_error",
    "Claude Code 2.0.1 does not support this model; version 2.1.0 or newer is required.",
    { tag: "ClientRejected", reason: "version_too_old" },
    {},
    { details: { error_code: "claude_code_version_too_old" } }
  ),
  api(
    "400 out of extra usage",
    "messages",
    400,
    "invalid_request_error",
    "You're out of extra usage. Add more at claude.ai/settings/usage and keep going.",
    { tag: "ExtraUsageRequired", action: "switch_account" }
  ),
  api(
    "429 third-party apps draw from extra usage",
    "messages",
    429,
    "rate_limit_error",
    "Third-party apps now draw from your extra usage, not your plan limits.",
    { tag: "ExtraUsageRequired" }
  ),
  api(
    "400 long context needs extra usage",
    "messages",
    400,
    "invalid_request_error",
    "Extra usage is required for long context requests.",
    { tag: "ExtraUsageRequired" }
  ),
  {
    name: "200 SSE with rate_limit_error event",
    endpoint: "messages",
    reply: {
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body:
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1"}}\n\n' +
        'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Rate limited. Please try again later."}}\n\n'
    },
    expect: { tag: "RateLimited", endpoint: "messages", limitKind: "throttle" }
  },
  {
    name: "200 SSE that completes",
    endpoint: "messages",
    reply: {
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    },
    expect: { tag: "Ok", action: "none" }
  },
  {
    name: "token invalid_grant (not found)",
    endpoint: "token",
    reply: { status: 400, headers: json, body: oauth("invalid_grant", "Refresh token not found or invalid") },
    expect: { tag: "RefreshRejected", reason: "invalid_grant", action: "reauthenticate", retryable: false }
  },
  {
    name: "token invalid_grant (expired)",
    endpoint: "token",
    reply: { status: 400, headers: json, body: oauth("invalid_grant", "Refresh token expired") },
    expect: { tag: "RefreshRejected", reason: "invalid_grant" }
  },
  {
    name: "token invalid_scope",
    endpoint: "token",
    reply: { status: 400, headers: json, body: oauth("invalid_scope") },
    expect: { tag: "RefreshRejected", reason: "invalid_scope" }
  },
  {
    name: "token invalid_client",
    endpoint: "token",
    reply: { status: 401, headers: json, body: oauth("invalid_client") },
    expect: { tag: "RefreshRejected", reason: "invalid_client", action: "fix_client" }
  },
  {
    name: "token unauthorized_client",
    endpoint: "token",
    reply: { status: 400, headers: json, body: oauth("unauthorized_client") },
    expect: { tag: "RefreshRejected", reason: "unauthorized_client" }
  },
  {
    name: "token account_on_hold",
    endpoint: "token",
    reply: { status: 400, headers: json, body: oauth("invalid_request", "account_on_hold") },
    expect: { tag: "RefreshRejected", reason: "account_on_hold", action: "switch_account" }
  },
  {
    name: "token unknown OAuth error",
    endpoint: "token",
    reply: { status: 400, headers: json, body: oauth("server_had_a_bad_day") },
    expect: { tag: "RefreshRejected", reason: "other" }
  },
  {
    name: "token 429 (no top-level type)",
    endpoint: "token",
    reply: {
      status: 429,
      headers: { ...json, "retry-after": "120" },
      body: JSON.stringify({ error: { type: "rate_limit_error", message: "Rate limited. Please try again later." } })
    },
    expect: { tag: "RateLimited", endpoint: "token", retryAfterMs: 120_000, limitKind: "throttle" }
  },
  {
    name: "token 403 Cloudflare 1010",
    endpoint: "token",
    reply: { status: 403, headers: { "content-type": "text/plain" }, body: "error code: 1010" },
    expect: { tag: "EdgeBlocked", reason: "cloudflare_1010", endpoint: "token" }
  },
  {
    name: "usage 403 Cloudflare challenge page",
    endpoint: "usage",
    reply: {
      status: 403,
      headers: { "content-type": "text/html" },
      body: "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf</body></html>"
    },
    expect: { tag: "EdgeBlocked", reason: "challenge" }
  },
  {
    name: "usage 429 on a stale token is an expiry (and is never sent)",
    endpoint: "usage",
    calls: 0,
    credential: { expiresAt: NOW - 60_000, scopes: ["user:profile", "user:inference"] },
    reply: {
      status: 429,
      headers: { ...json, "retry-after": "0" },
      body: envelope("rate_limit_error", "Rate limited. Please try again later.")
    },
    expect: { tag: "TokenExpired", reason: "stale", action: "refresh" }
  },
  {
    name: "usage 200",
    endpoint: "usage",
    reply: { status: 200, headers: json, body: usageBody },
    expect: { tag: "Ok" }
  },
  {
    name: "usage 200 truncated JSON",
    endpoint: "usage",
    reply: { status: 200, headers: json, body: usageBody.slice(0, 40) },
    expect: { tag: "Decode", action: "backoff" }
  },
  {
    name: "usage 200 multi-megabyte body",
    endpoint: "usage",
    reply: { status: 200, headers: json, body: `{"five_hour":${" ".repeat(3 * 1024 * 1024)}null}` },
    expect: { tag: "Decode" }
  },
  {
    name: "profile 500",
    endpoint: "profile",
    reply: { status: 500, headers: json, body: envelope("api_error", "Internal server error") },
    expect: { tag: "ServerError", action: "backoff" }
  },
  {
    name: "messages 502 HTML",
    endpoint: "messages",
    reply: { status: 502, headers: { "content-type": "text/html" }, body: "<html>Bad gateway</html>" },
    expect: { tag: "ServerError" }
  },
  {
    name: "usage 404",
    endpoint: "usage",
    reply: { status: 404, headers: json, body: envelope("not_found_error", "Not found") },
    expect: { tag: "NotFound", action: "fix_client" }
  },
  {
    name: "messages 413",
    endpoint: "messages",
    reply: {
      status: 413,
      headers: json,
      body: envelope("request_too_large", "Request exceeds the maximum allowed number of bytes.")
    },
    expect: { tag: "BadRequest", errorType: "request_too_large" }
  },
  retryAfter("delta-seconds", { "retry-after": "60" }, 60_000),
  retryAfter("HTTP-date", { "retry-after": new Date(NOW + 120_000).toUTCString() }, 120_000),
  retryAfter("retry-after-ms", { "retry-after-ms": "1500", "retry-after": "2" }, 1500),
  retryAfter("0 counts as absent", { "retry-after": "0" }, null),
  retryAfter("garbage", { "retry-after": "soon-ish" }, null),
  retryAfter("absurdly large is capped", { "retry-after": "999999999" }, 6 * 3600_000),
  retryAfter("negative", { "retry-after": "-5" }, null),
  retryAfter("HTTP-date in the past", { "retry-after": new Date(NOW - 120_000).toUTCString() }, null),
  {
    name: "transport: connection reset",
    endpoint: "usage",
    reply: { status: 200, fault: "reset" },
    expect: { tag: "Transport", reason: "reset", retryable: true }
  },
  {
    name: "transport: never answers",
    endpoint: "profile",
    reply: { status: 200, fault: "hang" },
    expect: { tag: "Transport", reason: "timeout" }
  },
  {
    name: "transport: body stalls half way",
    endpoint: "usage",
    reply: { status: 200, headers: json, body: usageBody, fault: "stall" },
    expect: { tag: "Transport", reason: "timeout" }
  }
]
