import * as C from "../Classification.js"
import type { CredentialFacts, Input } from "../Classify.js"
import type { Endpoint } from "../Endpoint.js"
import * as RetryAfter from "../RetryAfter.js"
import * as UnifiedHeaders from "../UnifiedHeaders.js"
import { type ErrorFacts, inspect } from "./body.js"

const REFRESH_CODES: ReadonlySet<string> = new Set([
  "invalid_grant",
  "invalid_scope",
  "invalid_client",
  "unauthorized_client",
  "account_on_hold"
])

const SCOPE_REQUIREMENT = /does not meet scope requirement\s+([A-Za-z0-9_:.-]+)/i
const ORG_POLICY = /not allowed for this organi[sz]ation/i
const REVOKED = /has been revoked/i
const EXTRA_USAGE = /extra usage/i
const CLAUDE_CODE_ONLY = /only authorized for use with Claude Code/i
const VERSION_TOO_OLD = /version\s+\S+\s+or newer is required/i

export const classify = (input: Input): C.Classification => {
  // A verdict is a value, never thrown from here: the call stack it would capture as an Error is never read, and
  // capturing it cost as much as the rest of the classification.
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return unsafeClassify(input)
  } catch {
    // Unreachable by design; the guarantee is that callers never see a throw.
    return new C.Decode({ ...base(input, null, null), action: "backoff", retryable: true })
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
}

type Common = {
  endpoint: Endpoint
  status: number | null
  retryAfterMs: number | null
  requestId: string | null
}

const base = (
  input: Input,
  status: number | null,
  retryAfterMs: number | null,
  requestId: string | null = null
): Common => ({
  endpoint: input.endpoint,
  status,
  retryAfterMs,
  requestId
})

// Anything that is not a plausible HTTP status is treated as "no response".
const safeStatus = (status: number | null): number | null =>
  typeof status === "number" && Number.isInteger(status) && status >= 0 && status <= 999 ? status : null

const unsafeClassify = (input: Input): C.Classification => {
  const status = safeStatus(input.status)
  const now = Number.isFinite(input.now) ? Math.round(Math.min(Math.max(input.now, 0), 8.64e15)) : 0
  if (status === null) {
    return new C.Transport({
      ...base(input, null, null),
      action: "backoff",
      retryable: true,
      reason: input.transportError ?? "other"
    })
  }
  const headers = normaliseHeaders(input.headers)
  const retryAfterMs = RetryAfter.fromHeaders(headers, now, input.retryAfterPolicy)
  const body = inspect(input.body, headers["content-type"])
  const error = body.error
  const common = base(input, status, retryAfterMs, error?.requestId ?? headers["request-id"] ?? null)
  const stale = input.endpoint !== "token" && isStale(input.credential, now)

  if (status >= 200 && status < 300) {
    if (body.sse) return error ? fromStreamError(common, error, headers, now) : ok(common)
    // A Messages answer is passed on, not read here, and may be long; token, usage and profile answers are read
    // whole by us, so one too long to parse is as unusable as one that does not parse.
    if (!body.json && !(body.longJson && input.endpoint === "messages")) {
      return new C.Decode({ ...common, action: "backoff", retryable: true })
    }
    return ok(common)
  }

  const edge = edgeBlock(body.text, headers)
  if (edge) return new C.EdgeBlocked({ ...common, action: "fix_client", retryable: false, reason: edge })

  const message = error?.message ?? ""

  if ((status === 401 || status === 403) && ORG_POLICY.test(message)) {
    return new C.OrgPolicyDenied({ ...common, action: "switch_account", retryable: false })
  }
  if ((status === 401 || status === 403) && REVOKED.test(message)) {
    return new C.TokenRevoked({ ...common, action: "reauthenticate", retryable: false })
  }
  if (input.endpoint === "token" && status >= 400 && status < 500 && status !== 429) {
    const code = refreshCode(error)
    if (code) return new C.RefreshRejected({ ...common, action: refreshAction(code), retryable: false, reason: code })
  }
  const scope = SCOPE_REQUIREMENT.exec(message)
  if (status === 403 && scope?.[1]) {
    return new C.MissingScope({
      ...common,
      action: scope[1] === "user:inference" ? "reauthenticate" : "skip_endpoint",
      retryable: false,
      scope: scope[1]
    })
  }
  if (status >= 400 && status < 500 && EXTRA_USAGE.test(message)) {
    return new C.ExtraUsageRequired({ ...common, action: "switch_account", retryable: false })
  }
  if (status >= 400 && status < 500 && error?.errorCode === "claude_code_version_too_old") {
    return new C.ClientRejected({ ...common, action: "fix_client", retryable: false, reason: "version_too_old" })
  }
  if (status === 400 && (CLAUDE_CODE_ONLY.test(message) || VERSION_TOO_OLD.test(message))) {
    return new C.ClientRejected({
      ...common,
      action: "fix_client",
      retryable: false,
      reason: CLAUDE_CODE_ONLY.test(message) ? "claude_code_only" : "version_too_old"
    })
  }
  if (status === 401) {
    // A token past its expiresAt makes any 401 an expiry, whatever the words.
    if (stale) return new C.TokenExpired({ ...common, action: "refresh", retryable: true, reason: "stale" })
    if (/expired/i.test(message)) {
      return new C.TokenExpired({ ...common, action: "refresh", retryable: true, reason: "server" })
    }
    return new C.TokenInvalid({ ...common, action: "refresh", retryable: true })
  }
  if (status === 429) {
    // The usage endpoint answers a stale or rotated token with 429, not 401.
    if (stale) return new C.TokenExpired({ ...common, action: "refresh", retryable: true, reason: "stale" })
    return rateLimited(common, headers, now)
  }
  if (status === 529 || error?.type === "overloaded_error") {
    return new C.Overloaded({ ...common, action: "backoff", retryable: true })
  }
  if (status === 404) return new C.NotFound({ ...common, action: "fix_client", retryable: false })
  if (status >= 500) return new C.ServerError({ ...common, action: "backoff", retryable: true })
  return new C.BadRequest({
    ...common,
    action: "fix_client",
    retryable: false,
    errorType: error?.type ?? error?.oauthError ?? null,
    detail: detailOf(error)
  })
}

const DETAIL_MAX = 300
// Bearer tokens, API keys and OAuth codes never reach a message, even when an upstream echoes one.
const CREDENTIAL = /\b(?:sk-ant-[\w-]+|Bearer\s+\S+|[A-Za-z0-9_-]{40,})/g

/** The upstream's own words about a refused request, capped and with credentials redacted; `null` when none. */
const detailOf = (error: ErrorFacts | null | undefined): string | null => {
  const text = error?.message?.replace(/\s+/g, " ").trim()
  if (!text) return null
  const safe = text.replace(CREDENTIAL, "[redacted]")
  return safe.length > DETAIL_MAX ? `${safe.slice(0, DETAIL_MAX - 1)}…` : safe
}

const ok = (common: Common): C.Ok => new C.Ok({ ...common, action: "none", retryable: false })

const isStale = (credential: CredentialFacts | null | undefined, now: number): boolean => {
  const expiresAt = credential?.expiresAt
  return typeof expiresAt === "number" && Number.isFinite(expiresAt) && now >= expiresAt
}

const fromStreamError = (
  common: Common,
  error: ErrorFacts,
  headers: Record<string, string>,
  now: number
): C.Classification => {
  if (error.type === "rate_limit_error") return rateLimited(common, headers, now)
  if (error.type === "overloaded_error") return new C.Overloaded({ ...common, action: "backoff", retryable: true })
  if (EXTRA_USAGE.test(error.message ?? "")) {
    return new C.ExtraUsageRequired({ ...common, action: "switch_account", retryable: false })
  }
  if (error.type === "invalid_request_error" || error.type === "permission_error") {
    return new C.BadRequest({
      ...common,
      action: "fix_client",
      retryable: false,
      errorType: error.type,
      detail: detailOf(error)
    })
  }
  return new C.ServerError({ ...common, action: "backoff", retryable: true })
}

const rateLimited = (common: Common, headers: Record<string, string>, now: number): C.RateLimited => {
  const unified = UnifiedHeaders.parse(headers)
  const claim = unified.representativeClaim
  const cap =
    common.endpoint !== "token" && (unified.status === "rejected" || (claim !== null && unified.status !== "allowed"))
  const resetsAt = cap
    ? (unified.resetsAt ?? UnifiedHeaders.claimResetsAt(unified))
    : common.retryAfterMs !== null
      ? now + common.retryAfterMs
      : null
  return new C.RateLimited({
    ...common,
    action: cap || common.retryAfterMs !== null ? "wait" : "backoff",
    retryable: true,
    limitKind: cap ? "subscription_cap" : "throttle",
    resetsAt,
    claim: cap ? claim : null
  })
}

const refreshCode = (error: ErrorFacts | null): C.RefreshErrorCode | null => {
  if (!error) return null
  const code = error.oauthError
  // account_on_hold arrives as the description of another code.
  if (error.message && /account_on_hold/.test(error.message)) return "account_on_hold"
  if (code && REFRESH_CODES.has(code)) return code as C.RefreshErrorCode
  if (code) return "other"
  return null
}

const refreshAction = (code: C.RefreshErrorCode): C.Action =>
  code === "invalid_client" || code === "unauthorized_client"
    ? "fix_client"
    : code === "account_on_hold"
      ? "switch_account"
      : "reauthenticate"

const edgeBlock = (text: string, headers: Record<string, string>): "cloudflare_1010" | "challenge" | null => {
  if (/^\s*error code:\s*1010\b/i.test(text)) return "cloudflare_1010"
  if (headers["cf-mitigated"] === "challenge") return "challenge"
  if (/<title>\s*Just a moment\.\.\.\s*<\/title>/i.test(text)) return "challenge"
  return null
}

const normaliseHeaders = (headers: Input["headers"]): Record<string, string> => {
  const out: Record<string, string> = {}
  if (!headers || typeof headers !== "object") return out
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === "string") out[name.toLowerCase()] = value
    else if (Array.isArray(value) && typeof value[0] === "string") out[name.toLowerCase()] = value[0]
  }
  return out
}
