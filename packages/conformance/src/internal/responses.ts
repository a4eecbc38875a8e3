// The bodies the real service sends, as the reference records them.
import type { Account } from "./accounts.js"

export const JSON_TYPE = { "content-type": "application/json" }

export const apiError = (type: string, message: string): string =>
  JSON.stringify({ type: "error", error: { type, message }, request_id: `req_sim${Date.now().toString(36)}` })

export const oauthError = (error: string, description: string): string =>
  JSON.stringify({ error, error_description: description })

export const tokenRateLimited = JSON.stringify({
  error: { type: "rate_limit_error", message: "Rate limited. Please try again later." }
})

export const scopeRequirement = (scope: string): string =>
  apiError("permission_error", `OAuth token does not meet scope requirement\n    ${scope}`)

export const tokenGrant = (account: Account, omitRefreshToken: boolean, expiresIn: number): string =>
  JSON.stringify({
    token_type: "Bearer",
    access_token: account.accessToken,
    ...(omitRefreshToken ? {} : { refresh_token: account.refreshToken }),
    expires_in: expiresIn,
    scope: account.scopes.join(" "),
    account: { uuid: account.uuid, email_address: account.email },
    organization: { uuid: account.organizationUuid }
  })

export const usage = (account: Account, now: number): string =>
  JSON.stringify({
    five_hour: { utilization: account.utilization.fiveHour, resets_at: new Date(now + 2 * 3600_000).toISOString() },
    seven_day: { utilization: account.utilization.sevenDay, resets_at: new Date(now + 4 * 86_400_000).toISOString() },
    seven_day_opus: null,
    seven_day_sonnet: { utilization: 5, resets_at: new Date(now + 4 * 86_400_000).toISOString() },
    seven_day_oauth_apps: null,
    extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null, currency: null },
    limits: [
      {
        kind: "session",
        group: "all",
        percent: account.utilization.fiveHour,
        severity: "normal",
        resets_at: new Date(now + 2 * 3600_000).toISOString(),
        is_active: true,
        scope: null
      }
    ]
  })

const ORG_TYPES: Record<string, string> = {
  max: "claude_max",
  pro: "claude_pro",
  team: "claude_team",
  enterprise: "claude_enterprise"
}

export const profile = (account: Account): string =>
  JSON.stringify({
    account: {
      uuid: account.uuid,
      email: account.email,
      display_name: "Simulated User",
      has_claude_max: account.subscriptionType === "max",
      has_claude_pro: account.subscriptionType === "pro"
    },
    organization: {
      uuid: account.organizationUuid,
      name: "Simulated Org",
      organization_type: ORG_TYPES[account.subscriptionType] ?? "claude_pro",
      rate_limit_tier: account.rateLimitTier
    }
  })

export const REPLY_TEXT = "Hello from the tollgate simulator."

export const unifiedHeaders = (account: Account, now: number): Record<string, string> => {
  const reset5h = Math.floor((now + 2 * 3600_000) / 1000)
  const reset7d = Math.floor((now + 4 * 86_400_000) / 1000)
  return {
    "anthropic-ratelimit-unified-status": "allowed",
    "anthropic-ratelimit-unified-reset": String(reset5h),
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-5h-utilization": String(account.utilization.fiveHour / 100),
    "anthropic-ratelimit-unified-7d-utilization": String(account.utilization.sevenDay / 100),
    "anthropic-ratelimit-unified-5h-reset": String(reset5h),
    "anthropic-ratelimit-unified-7d-reset": String(reset7d),
    "anthropic-ratelimit-unified-5h-status": "allowed",
    "anthropic-ratelimit-unified-7d-status": "allowed"
  }
}

export const message = (model: string): string =>
  JSON.stringify({
    id: "msg_sim01",
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text: REPLY_TEXT }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 8 }
  })

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

export const messageStream = (model: string): string =>
  event("message_start", {
    type: "message_start",
    message: {
      id: "msg_sim01",
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 1 }
    }
  }) +
  event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
  event("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: REPLY_TEXT }
  }) +
  event("content_block_stop", { type: "content_block_stop", index: 0 }) +
  event("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 8 }
  }) +
  event("message_stop", { type: "message_stop" })
