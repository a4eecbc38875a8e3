/**
 * The answer opencode gets when no account can serve a request: Anthropic's
 * error envelope (`{type:"error", error:{type, message}}`) carrying the
 * verdict's sentence, in the form that makes opencode 1.18 do what the
 * verdict's action says.
 *
 * opencode retries an API error when its status is 408, 409, 429 or ≥ 500
 * (the AI SDK's `isRetryable`), or when its message or raw body matches one
 * of its retry patterns (`rate_limit`, `overloaded`, `429`, `try again
 * later`…); it waits `retry-after-ms`/`retry-after` when sent. So a verdict
 * that no retry can fix is answered with a 4xx and an envelope type outside
 * those patterns, and one a retry can fix keeps a retryable status and says
 * how long to wait.
 */
import type * as C from "@tollgate/core/Classification"

/** How long the verdict asks to wait from `now`: until its reset, else its Retry-After; `null` when unknown. */
export const waitMs = (c: C.Failure, now: number): number | null =>
  c._tag === "RateLimited" && c.resetsAt !== null ? Math.max(0, c.resetsAt - now) : c.retryAfterMs

/**
 * Whether a later identical request from opencode can succeed: a `backoff`
 * verdict, or a `wait` short enough to be waited out (a longer or unknown
 * wait — a subscription cap — is surfaced at once). Every other action needs
 * something no retry does: another account, a new login, a fixed client.
 */
export const retryHelps = (c: C.Failure, now: number, waitCapMs: number): boolean => {
  if (c.action === "backoff") return true
  if (c.action !== "wait") return false
  const ms = waitMs(c, now)
  return ms !== null && ms <= waitCapMs
}

interface Form {
  readonly status: number
  readonly type: string
}

// Statuses opencode does not retry; types outside its retry patterns.
const final = (c: C.Failure): Form => {
  switch (c._tag) {
    case "TokenExpired":
    case "TokenInvalid":
    case "TokenRevoked":
    case "RefreshRejected":
      return { status: 401, type: "authentication_error" }
    case "NotFound":
      return { status: 404, type: "not_found_error" }
    case "BadRequest":
      // The upstream 4xx as it was (a 413 is how opencode recognises a context overflow).
      return { status: c.status ?? 400, type: "invalid_request_error" }
    default:
      return { status: 403, type: "permission_error" }
  }
}

const retryable = (c: C.Failure): Form => {
  switch (c._tag) {
    case "RateLimited":
      return { status: 429, type: "rate_limit_error" }
    case "Overloaded":
      return { status: 529, type: "overloaded_error" }
    case "ServerError":
      return { status: c.status ?? 503, type: "api_error" }
    default:
      return { status: 503, type: "api_error" }
  }
}

/**
 * The response that carries `c`'s message to opencode, retryable exactly
 * when {@link retryHelps}; a known wait goes out as `retry-after-ms` (and
 * `retry-after`), which opencode's retry delay honours.
 */
export const errorResponse = (
  c: C.Failure,
  options: { readonly now: number; readonly waitCapMs: number }
): Response => {
  const form = retryHelps(c, options.now, options.waitCapMs) ? retryable(c) : final(c)
  const headers: Record<string, string> = { "content-type": "application/json" }
  const ms = waitMs(c, options.now)
  if (ms !== null) {
    headers["retry-after-ms"] = String(ms)
    headers["retry-after"] = String(Math.ceil(ms / 1000))
  }
  return new Response(JSON.stringify({ type: "error", error: { type: form.type, message: c.message } }), {
    status: form.status,
    headers
  })
}
