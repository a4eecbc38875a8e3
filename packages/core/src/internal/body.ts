import { decodeUtf8 } from "./utf8.js"

// What the classifier reads out of a response body. Bodies are looked at only
// up to a prefix: a multi-megabyte body costs the same as a small one.

export const INSPECT_LIMIT = 64 * 1024

export interface ErrorFacts {
  /** `error.type` of the API envelope, e.g. `rate_limit_error`. */
  readonly type: string | null
  /** `error.message` of the envelope, or an OAuth `error_description`. */
  readonly message: string | null
  /** OAuth-style `error` code from the token endpoint, e.g. `invalid_grant`. */
  readonly oauthError: string | null
  /** `details.error_code`, e.g. `claude_code_version_too_old`. */
  readonly errorCode: string | null
  readonly requestId: string | null
}

export interface BodyFacts {
  readonly text: string
  /** Whether the inspected text parsed as JSON. */
  readonly json: boolean
  /** Whether the body is longer than the inspected prefix, which opens as JSON (so it could not parse here). */
  readonly longJson: boolean
  readonly sse: boolean
  /** The error a JSON body or an SSE `error` event carried, if any. */
  readonly error: ErrorFacts | null
}

export const inspect = (body: string | Uint8Array | null | undefined, contentType: string | undefined): BodyFacts => {
  const text =
    body == null
      ? ""
      : typeof body === "string"
        ? body.length > INSPECT_LIMIT
          ? body.slice(0, INSPECT_LIMIT)
          : body
        : decodeUtf8(body.length > INSPECT_LIMIT ? body.subarray(0, INSPECT_LIMIT) : body)
  const trimmed = text.trimStart()
  const sse = isEventStream(contentType) || /^(event|data):/.test(trimmed)
  if (sse) return { text, json: false, longJson: false, sse, error: sseError(text) }
  const parsed = parseJson(trimmed)
  // Longer than the prefix read, it cannot parse whole here: whether that is a long answer or a broken one is the
  // classifier's call, by endpoint.
  const longJson = parsed === undefined && truncated(body) && (trimmed.startsWith("{") || trimmed.startsWith("["))
  return { text, json: parsed !== undefined, longJson, sse, error: parsed === undefined ? null : errorFacts(parsed) }
}

const truncated = (body: string | Uint8Array | null | undefined): boolean => body != null && body.length > INSPECT_LIMIT

const parseJson = (text: string): unknown => {
  if (!(text.startsWith("{") || text.startsWith("["))) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const str = (u: unknown): string | null => (typeof u === "string" ? u : null)

export const errorFacts = (json: unknown): ErrorFacts | null => {
  if (!isObject(json)) return null
  const requestId = str(json["request_id"])
  const error = json["error"]
  if (isObject(error)) {
    const details = isObject(error["details"]) ? error["details"] : isObject(json["details"]) ? json["details"] : null
    return {
      type: str(error["type"]),
      message: str(error["message"]),
      oauthError: null,
      errorCode: details ? str(details["error_code"]) : null,
      requestId
    }
  }
  if (typeof error === "string") {
    return {
      type: null,
      message: str(json["error_description"]),
      oauthError: error,
      errorCode: null,
      requestId
    }
  }
  return null
}

// A 200 stream can carry `event: error` with the API error envelope.
const sseError = (text: string): ErrorFacts | null => {
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event: string | null = null
    const data: Array<string> = []
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim()
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart())
    }
    if (data.length === 0) continue
    const payload = parseJson(data.join("\n"))
    if (event === "error" || (isObject(payload) && payload["type"] === "error")) {
      return errorFacts(payload) ?? { type: null, message: null, oauthError: null, errorCode: null, requestId: null }
    }
  }
  return null
}

/** Whether a `content-type` announces an event stream (SSE). */
export const isEventStream = (contentType: string | null | undefined): boolean =>
  (contentType ?? "").toLowerCase().includes("text/event-stream")
