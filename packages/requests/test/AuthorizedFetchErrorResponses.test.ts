// What opencode and the status command see of a failure: the form opencode does not retry, the upstream's words
// where opencode acts on them, and the verdict rather than the HTTP status.
import { classify } from "@tollgate/core/Classify"
import { afterEach, describe, expect, it } from "vitest"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import { errorResponse } from "../src/internal/envelope.js"
import * as StatusCommand from "../src/StatusCommand.js"
import { cleanUpAfterEach, cap, envelope, oauth, sendWithBeta, start } from "./support/simulator.js"

cleanUpAfterEach()
afterEach(() => StatusCommand.clear())

// What opencode 1.18's SessionRetry retries whatever the status (see internal/envelope.ts).
const OPENCODE_RETRY_PATTERNS = [
  /429|500|502|503|504|524/i,
  /rate increased too quickly|rate limit|rate-limit|rate_limit|too many requests/i,
  /overloaded|service unavailable|service_unavailable|internal error|internal_error|server error|server_error/i,
  /try your request again|retry your request|resource exhausted|resource_exhausted/i,
  /\btry again (?:later|in\b)|\b(?:currently|temporarily) at capacity\b/i
]

describe("AuthorizedFetch's error responses", () => {
  it("a cap on the only account is answered at once in the form opencode does not retry, core's message intact", async () => {
    const sim = await start()
    sim.script("messages", { ...cap(7200), times: "always" })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const response = await sendWithBeta(fetch, sim)
    expect(sim.count("messages")).toBe(1)
    // Not 408/409/429/>=500 (the AI SDK's isRetryable), and no text opencode's retry patterns match.
    expect([401, 403]).toContain(response.status)
    const text = await response.text()
    for (const pattern of OPENCODE_RETRY_PATTERNS) expect(text).not.toMatch(pattern)
    const body = JSON.parse(text) as { type: string; error: { type: string; message: string } }
    expect(body.type).toBe("error")
    expect(body.error.message).toMatch(/^The subscription's five_hour limit is reached; it resets at \d{4}-/)
    // The next request is answered from the skip, without a call.
    expect((await sendWithBeta(fetch, sim)).status).toBe(response.status)
    expect(sim.count("messages")).toBe(1)
  })

  it("a context overflow reaches opencode as a 400 whose message carries the upstream's words (opencode compacts on them)", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 400,
      headers: { "content-type": "application/json" },
      body: envelope("invalid_request_error", "prompt is too long: 210345 tokens > 200000 maximum")
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const response = await sendWithBeta(fetch, sim)
    expect(sim.count("messages")).toBe(1)
    // opencode's isContextOverflowError: status 400 and the message includes "prompt is too long".
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe("invalid_request_error")
    expect(body.error.message.toLowerCase()).toContain("prompt is too long")
  })

  it("the status registry shows the verdict, not the HTTP status", async () => {
    const sim = await start()
    sim.script("messages", { ...cap(7200), times: "always" })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    await sendWithBeta(fetch, sim)
    const entries = StatusCommand.snapshot()
    expect(entries.map((e) => e.verdict)).toEqual(["RateLimited"])
    expect(StatusCommand.format()).not.toMatch(/HTTP \d/)
  })

  it("every verdict no retry can fix is answered in the form opencode does not retry; a backoff stays retryable", async () => {
    const now = Date.now()
    const verdict = (endpoint: "messages" | "token", status: number, type: string, message: string, headers = {}) => {
      const c = classify({
        endpoint,
        status,
        headers: { "content-type": "application/json", ...headers },
        body: envelope(type, message),
        now
      })
      if (c._tag === "Ok") throw new Error("expected a failure")
      return c
    }
    const final = [
      verdict(
        "messages",
        429,
        "rate_limit_error",
        "This request would exceed your account's rate limit. Please try again later.",
        {
          "anthropic-ratelimit-unified-status": "rejected",
          "anthropic-ratelimit-unified-representative-claim": "seven_day"
        }
      ),
      verdict(
        "messages",
        403,
        "permission_error",
        "OAuth authentication is currently not allowed for this organization."
      ),
      verdict(
        "messages",
        400,
        "invalid_request_error",
        "You're out of extra usage. Add more at claude.ai/settings/usage and keep going."
      ),
      verdict("messages", 401, "authentication_error", "OAuth token has been revoked"),
      verdict("messages", 403, "permission_error", "OAuth token does not meet scope requirement user:inference"),
      classify({
        endpoint: "token",
        status: 400,
        body: JSON.stringify({ error: "invalid_grant", error_description: "x" }),
        now
      }),
      // Waits far beyond the cap: opencode would otherwise sit out the whole Retry-After (an hour) before failing.
      verdict("token", 429, "rate_limit_error", "Rate limited. Please try again later.", { "retry-after": "3600" }),
      verdict("messages", 429, "rate_limit_error", "Rate limited. Please try again later.", { "retry-after": "3600" })
    ]
    expect(final.map((c) => c._tag)).toEqual([
      "RateLimited",
      "OrgPolicyDenied",
      "ExtraUsageRequired",
      "TokenRevoked",
      "MissingScope",
      "RefreshRejected",
      "RateLimited",
      "RateLimited"
    ])
    for (const c of final) {
      if (c._tag === "Ok") continue
      const response = errorResponse(c, { now, waitCapMs: AuthorizedFetch.DEFAULT_RETRY_AFTER_CAP_MS })
      expect([408, 409, 429]).not.toContain(response.status)
      expect(response.status, c._tag).toBeLessThan(500)
      const text = await response.text()
      for (const pattern of OPENCODE_RETRY_PATTERNS) expect(text, c._tag).not.toMatch(pattern)
      expect((JSON.parse(text) as { error: { message: string } }).error.message).toBe(c.message)
    }
    const overloaded = errorResponse(verdict("messages", 529, "overloaded_error", "Overloaded"), {
      now,
      waitCapMs: 10_000
    })
    expect(overloaded.status).toBe(529)
  })
})
