import type * as C from "../Classification.js"

/** Why a request failed before any response, from what the HTTP client threw (its code, name, message, causes). */
export const reasonOf = (cause: unknown): C.TransportReason => {
  const text = describeCause(cause)
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|connect/i.test(text)) return "connect"
  if (/ECONNRESET|EPIPE|socket hang up|other side closed|terminated|UND_ERR_SOCKET/i.test(text)) return "reset"
  if (/ETIMEDOUT|timeout/i.test(text)) return "timeout"
  if (/abort/i.test(text)) return "aborted"
  return "other"
}

const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 4 && current != null; depth++) {
    if (typeof current === "object") {
      const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown }
      parts.push(String(e.code ?? ""), String(e.name ?? ""), String(e.message ?? ""))
      current = e.cause
    } else {
      parts.push(String(current))
      break
    }
  }
  return parts.join(" ")
}
