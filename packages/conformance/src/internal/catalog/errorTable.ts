// The reference's error-table rows for usage, profile and messages: expiry, revocation, org policy,
// throttles and caps, capacity, client refusals, extra usage, and a limit inside a 200 SSE stream.
import type { Scenario } from "../../Scenario.js"
import { api, envelope, rateLimited, step } from "./rows.js"

export const errorTableScenarios: ReadonlyArray<Scenario> = [
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
  }
]
