/**
 * Decodes what the daemon tells the statusline — its one-line reply to a
 * `status` request, or its published status file — trusting nothing: what is
 * not well-formed v1 is `null`, and the statusline falls back to asking or to
 * Claude Code's own numbers.
 *
 * @since 0.1.0
 */
import { type Published, type Quota, type Windows, windowOf } from "../Protocol.js"

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const finite = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)
const finiteOrNull = (u: unknown): number | null => (finite(u) ? u : null)
// Labels are looked up by verdict, never printed from it; the cap only bounds garbage.
const shortString = (u: unknown): string | null => (typeof u === "string" && u.length <= 200 ? u : null)

// Percentages clamped to 0..100, non-finite ones dropped: what the daemon says is not trusted either.
const windows = (u: unknown): Windows => {
  if (!isObject(u)) return {}
  const fiveHour = windowOf(u["fiveHour"])
  const sevenDay = windowOf(u["sevenDay"])
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) }
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

const quotaOf = (q: unknown): Quota<string> | null => {
  if (!isObject(q)) return null
  const source = q["source"]
  return {
    windows: windows(q["windows"]),
    source: source === "statusline" || source === "headers" || source === "usage-endpoint" ? source : null,
    observedAt: finiteOrNull(q["observedAt"]),
    verdict: shortString(q["verdict"]),
    until: finiteOrNull(q["until"]),
    message: shortString(q["message"])
  }
}

/**
 * The quota from a `status` reply line, or `null` for anything else
 * (`ok: false`, another version or op, not JSON).
 *
 * @since 0.1.0
 */
export const parseStatusReply = (line: string): Quota<string> | null => {
  const json = parse(line)
  if (!isObject(json) || json["v"] !== 1 || json["ok"] !== true || json["op"] !== "status") return null
  return quotaOf(json["quota"])
}

/**
 * The daemon's published status (`Protocol.Published`) from its file's text,
 * or `null` when it is anything else.
 *
 * @since 0.1.0
 */
export const parsePublished = (text: string): Published<string> | null => {
  const json = parse(text)
  if (!isObject(json) || json["v"] !== 1) return null
  const { pid, answeredAt, seen } = json
  const quota = quotaOf(json["quota"])
  if (!finite(pid) || !Number.isInteger(pid) || pid <= 0 || !finite(answeredAt) || quota === null) return null
  if (seen !== null && typeof seen !== "string") return null
  return { v: 1, pid, answeredAt, quota, seen: seen === null || seen.length > 200 ? null : seen }
}
