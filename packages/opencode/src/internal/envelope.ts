/**
 * The error body the AI SDK understands (`{type:"error", error:{type, message}}`);
 * opencode shows `error.message`, so it carries the classification's sentence.
 */
import type * as C from "@tollgate/core/Classification"

const errorType = (c: C.Failure): string => {
  switch (c._tag) {
    case "RateLimited":
      return "rate_limit_error"
    case "Overloaded":
      return "overloaded_error"
    case "OrgPolicyDenied":
    case "ExtraUsageRequired":
    case "ClientRejected":
    case "MissingScope":
      return "permission_error"
    case "TokenExpired":
    case "TokenInvalid":
    case "TokenRevoked":
    case "RefreshRejected":
      return "authentication_error"
    case "NotFound":
      return "not_found_error"
    case "BadRequest":
      return "invalid_request_error"
    default:
      return "api_error"
  }
}

/**
 * The status a failure is reported with when no upstream status applies (a
 * refused refresh): 401/403 are final for the AI SDK, 503 lets it retry.
 */
export const statusFor = (c: C.Failure): number => {
  if (c.endpoint === "messages" && c.status !== null && c.status >= 400) return c.status
  switch (c._tag) {
    case "OrgPolicyDenied":
    case "ExtraUsageRequired":
    case "MissingScope":
      return 403
    case "Transport":
    case "ServerError":
    case "Overloaded":
    case "Decode":
      return 503
    default:
      return 401
  }
}

/** A response carrying `c`'s message, with `status`. */
export const errorResponse = (c: C.Failure, status: number = statusFor(c)): Response =>
  new Response(JSON.stringify({ type: "error", error: { type: errorType(c), message: c.message } }), {
    status,
    headers: { "content-type": "application/json" }
  })
