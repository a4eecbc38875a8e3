/**
 * What a gateway client gets when no account could serve its request:
 * Anthropic's error envelope (`{type:"error", error:{type, message}}`) with
 * core's sentence as the message, under the upstream status when the verdict
 * came from the messages endpoint (so an SDK raises the same typed error it
 * would against Anthropic), else the status Anthropic uses for that kind of
 * failure. `x-should-retry` (which Anthropic's SDKs obey) says whether a
 * retry can help, and `retry-after` / `retry-after-ms` are sent only then:
 * a capped subscription is not retried by a client that would wait hours.
 *
 * @since 0.1.0
 */
import type * as C from "@tollgate/core/Classification"
import { retryHelps, waitMs } from "@tollgate/requests/AuthorizedFetch"

/**
 * The longest wait a client is told to sit out (`retry-after`): Anthropic's
 * SDKs honour a `retry-after` of up to 60 s and fall back to their own short
 * backoff beyond it, which against a longer wait is only hammering.
 *
 * @since 0.1.0
 */
export const CLIENT_WAIT_CAP_MS = 60_000

interface Form {
  readonly status: number
  readonly type: string
}

const form = (c: C.Failure): Form => {
  switch (c._tag) {
    case "TokenExpired":
    case "TokenInvalid":
    case "TokenRevoked":
    case "RefreshRejected":
      return { status: 401, type: "authentication_error" }
    case "RateLimited":
      return { status: 429, type: "rate_limit_error" }
    case "Overloaded":
      return { status: 529, type: "overloaded_error" }
    case "NotFound":
      return { status: 404, type: "not_found_error" }
    case "BadRequest":
      return c.status === 413
        ? { status: 413, type: "request_too_large" }
        : { status: 400, type: "invalid_request_error" }
    case "ServerError":
    case "Decode":
      return { status: 500, type: "api_error" }
    case "Transport":
      return { status: c.reason === "timeout" ? 504 : 502, type: "api_error" }
    default:
      // MissingScope, OrgPolicyDenied, ExtraUsageRequired, ClientRejected, EdgeBlocked
      return { status: 403, type: "permission_error" }
  }
}

/**
 * The status a client sees for `c`: the messages endpoint's own status when
 * it is an error status, else the usual one for its kind.
 *
 * @since 0.1.0
 */
export const statusOf = (c: C.Failure): number =>
  c.endpoint === "messages" && c.status !== null && c.status >= 400 && c.status <= 599 ? c.status : form(c).status

/** An envelope the gateway itself answers with (a wrong key, a foreign Host…). @since 0.1.0 */
export const own = (status: number, type: string, message: string, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify({ type: "error", error: { type, message } }), {
    status,
    headers: { "content-type": "application/json", "x-should-retry": "false", ...headers }
  })

/**
 * The response carrying `c` to the client (see the module doc).
 *
 * @since 0.1.0
 */
export const errorResponse = (
  c: C.Failure,
  options: { readonly now: number; readonly waitCapMs: number }
): Response => {
  const helps = retryHelps(c, options.now, Math.max(options.waitCapMs, CLIENT_WAIT_CAP_MS))
  const headers: Record<string, string> = { "content-type": "application/json", "x-should-retry": String(helps) }
  const ms = waitMs(c, options.now)
  if (helps && ms !== null) {
    headers["retry-after-ms"] = String(ms)
    headers["retry-after"] = String(Math.ceil(ms / 1000))
  }
  const error: Record<string, unknown> = { type: form(c).type, message: c.message }
  return new Response(
    JSON.stringify({ type: "error", error, ...(c.requestId === null ? {} : { request_id: c.requestId }) }),
    { status: statusOf(c), headers }
  )
}

/**
 * The `event: error` block a client gets in place of an upstream one inside
 * a stream: Anthropic's SSE error event, carrying core's message (the SDKs
 * raise it as their own error with that message).
 *
 * @since 0.1.0
 */
export const errorEvent = (c: C.Failure): string =>
  `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: form(c).type, message: c.message } })}`
