/**
 * Decodes the daemon's one-line reply to a `status` request, trusting
 * nothing: a reply that is not a well-formed v1 status is `null`, and the
 * statusline falls back to Claude Code's own numbers.
 *
 * @since 0.1.0
 */
import type { Quota, Window, Windows } from "../Protocol.js"

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const finite = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)
const finiteOrNull = (u: unknown): number | null => (finite(u) ? u : null)
// Labels are looked up by verdict, never printed from it; the cap only bounds garbage.
const shortString = (u: unknown): string | null => (typeof u === "string" && u.length <= 200 ? u : null)

const window = (u: unknown): Window | undefined =>
  isObject(u) && finite(u["usedPercent"]) && u["usedPercent"] >= 0 && u["usedPercent"] <= 1000
    ? { usedPercent: u["usedPercent"], resetsAt: finiteOrNull(u["resetsAt"]) }
    : undefined

const windows = (u: unknown): Windows => {
  if (!isObject(u)) return {}
  const fiveHour = window(u["fiveHour"])
  const sevenDay = window(u["sevenDay"])
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) }
}

/**
 * The quota from a `status` reply line, or `null` for anything else
 * (`ok: false`, another version or op, not JSON).
 *
 * @since 0.1.0
 */
export const parseStatusReply = (line: string): Quota | null => {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return null
  }
  if (!isObject(json) || json["v"] !== 1 || json["ok"] !== true || json["op"] !== "status") return null
  const q = json["quota"]
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
