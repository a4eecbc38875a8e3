// The poller tollgate is measured against: what today's tools do (reference,
// section 6). Fixed 10-minute polling with plain fetch and a Claude Code
// User-Agent (so the simulator serves it normally), a fixed 30-minute pause
// after any 401, 403 or 429, and no notion of Retry-After, scopes or expiresAt.
// Like shelltime it keeps showing its last numbers after an auth error.
import type { Reading, UsageSourceFactory } from "../src/suites/usageSource.js"

export const INTERVAL_MS = 10 * 60_000
export const PAUSE_MS = 30 * 60_000
/** Real time: a hanging server would otherwise hold the benchmark forever. */
export const REQUEST_TIMEOUT_MS = 2_000
export const USER_AGENT = "claude-code/2.1.330"

/** A naive usage source with the same shape as the suite's adapters. */
export const naivePoller: UsageSourceFactory = ({ sim, login }) => {
  let nextAt = Number.NEGATIVE_INFINITY
  let reading: Reading = { verdict: null, fiveHour: null, sevenDay: null }
  return {
    ask: async (now) => {
      if (now < nextAt) return reading
      try {
        const response = await fetch(`${sim.url}/api/oauth/usage`, {
          headers: {
            authorization: `Bearer ${login().accessToken}`,
            "anthropic-beta": "oauth-2025-04-20",
            "user-agent": USER_AGENT
          },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
        })
        const text = await response.text()
        if (response.ok) {
          const usage = JSON.parse(text) as {
            five_hour?: { utilization?: number }
            seven_day?: { utilization?: number }
          }
          reading = {
            verdict: null,
            fiveHour: usage.five_hour?.utilization ?? null,
            sevenDay: usage.seven_day?.utilization ?? null
          }
          nextAt = now + INTERVAL_MS
        } else {
          reading = { ...reading, verdict: `HTTP ${response.status}` }
          nextAt = now + ([401, 403, 429].includes(response.status) ? PAUSE_MS : INTERVAL_MS)
        }
      } catch {
        reading = { ...reading, verdict: "error" }
        nextAt = now + INTERVAL_MS
      }
      return reading
    }
  }
}
