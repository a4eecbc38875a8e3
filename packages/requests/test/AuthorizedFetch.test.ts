// The request path's details beyond the shared suite, against the simulator.
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import { afterEach, describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import { classify } from "@tollgate/core/Classify"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import { errorResponse } from "../src/internal/envelope.js"
import * as StatusCommand from "../src/StatusCommand.js"

const sims: Array<Simulator.Simulator> = []
const temps: Array<string> = []
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close()
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true })
  StatusCommand.clear()
})

const tempStore = async () => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-fetch-"))
  temps.push(dir)
  return AccountStore.make(join(dir, "opencode-accounts.json"))
}

// What opencode 1.18's SessionRetry retries whatever the status (see internal/envelope.ts).
const OPENCODE_RETRY_PATTERNS = [
  /429|500|502|503|504|524/i,
  /rate increased too quickly|rate limit|rate-limit|rate_limit|too many requests/i,
  /overloaded|service unavailable|service_unavailable|internal error|internal_error|server error|server_error/i,
  /try your request again|retry your request|resource exhausted|resource_exhausted/i,
  /\btry again (?:later|in\b)|\b(?:currently|temporarily) at capacity\b/i
]

const cap = (resetInS: number) => ({
  status: 429,
  headers: {
    "content-type": "application/json",
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-reset": String(Math.floor(Date.now() / 1000) + resetInS)
  },
  body: envelope("rate_limit_error", "This request would exceed your account's rate limit. Please try again later.")
})

const start = async (scenario?: string) => {
  const sim = await Simulator.start({ ttlMs: 120_000, ...(scenario ? { scenario } : {}) })
  sims.push(sim)
  return sim
}

const oauth = (issued: Simulator.Issued): AuthorizedFetch.OAuthLogin => ({
  type: "oauth",
  access: issued.accessToken,
  refresh: issued.refreshToken,
  expires: issued.expiresAt
})

const envelope = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message } })

const send = (
  fetch: AuthorizedFetch.AuthorizedFetch,
  sim: Simulator.Simulator,
  beta = "fine-grained-tool-streaming-2025-05-14"
) =>
  fetch(`${sim.url}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "",
      "anthropic-version": "2023-06-01",
      "anthropic-beta": beta
    },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
  })

const lastMessage = (sim: Simulator.Simulator) => sim.log.filter((r) => r.route === "messages").at(-1)!

describe("AuthorizedFetch", () => {
  it("signs with the bearer, merges the OAuth beta once, drops x-api-key and sets the User-Agent", async () => {
    const sim = await start()
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    expect((await send(fetch, sim, "a-1, oauth-2025-04-20 ,b-2")).status).toBe(200)
    const request = lastMessage(sim)
    expect(request.bearer).toBe(fingerprint(sim.account.accessToken))
    expect(request.apiKey).toBeNull()
    expect(request.beta).toBe("a-1,oauth-2025-04-20,b-2")
    expect(request.userAgent).toBe(OAuthConfig.defaults.userAgent.messages)

    const custom = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url },
      userAgent: "ua-test/1"
    })
    await send(custom, sim, "")
    expect(lastMessage(sim).beta).toBe("oauth-2025-04-20")
    expect(lastMessage(sim).userAgent).toBe("ua-test/1")
  })

  it("waits out a short Retry-After and retries once", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "1" },
      body: envelope("rate_limit_error", "Rate limited. Please try again later.")
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const started = Date.now()
    const response = await send(fetch, sim)
    expect(response.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(sim.count("messages")).toBe(2)
  })

  it("surfaces a 429 without Retry-After at once, with the classification's message", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 429,
      headers: { "content-type": "application/json" },
      body: envelope("rate_limit_error", "Rate limited. Please try again later.")
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const response = await send(fetch, sim)
    expect(response.status).toBe(429)
    const body = (await response.json()) as { type: string; error: { type: string; message: string } }
    expect(body.type).toBe("error")
    expect(body.error.type).toBe("rate_limit_error")
    expect(body.error.message).toMatch(/throttling requests/)
    expect(sim.count("messages")).toBe(1)
  })

  it("persists refreshed tokens through the callback", async () => {
    const sim = await start("expired-access-token")
    const saved: Array<AuthorizedFetch.Tokens> = []
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url },
      persist: (tokens) => {
        saved.push(tokens)
      }
    })
    expect((await send(fetch, sim)).status).toBe(200)
    expect(saved).toHaveLength(1)
    expect(saved[0]!.access).not.toBe(sim.account.accessToken)
    expect(lastMessage(sim).bearer).toBe(fingerprint(saved[0]!.access))
  })

  it("moves to an API-key account when the organization forbids OAuth, and stays there", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 403,
      headers: { "content-type": "application/json" },
      body: envelope("permission_error", "OAuth authentication is currently not allowed for this organization.")
    })
    const key = "sk-ant-api03-test-key"
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account), { type: "api", key }],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    await send(fetch, sim)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
    expect(lastMessage(sim).bearer).toBeNull()
    await send(fetch, sim)
    expect(sim.count("messages")).toBe(3)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
  })

  it("an org-policy 401 spends no refresh: the verdict says switch account, not refresh", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 401,
      headers: { "content-type": "application/json" },
      body: envelope("authentication_error", "OAuth authentication is currently not allowed for this organization."),
      times: "always"
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const response = await send(fetch, sim)
    expect(sim.count("token")).toBe(0)
    expect(sim.count("messages")).toBe(1)
    expect(response.status).toBe(403)
    const body = (await response.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe("permission_error")
    expect(body.error.message).toMatch(/does not allow OAuth logins/)
  })

  it("a 401 whose verdict says refresh refreshes once and resends with the new token", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 401,
      headers: { "content-type": "application/json" },
      body: envelope(
        "authentication_error",
        "OAuth token has expired. Please obtain a new token or refresh your existing token."
      )
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    expect((await send(fetch, sim)).status).toBe(200)
    expect(sim.count("token")).toBe(1)
    expect(sim.count("messages")).toBe(2)
    expect(lastMessage(sim).bearer).not.toBe(fingerprint(sim.account.accessToken))
  })

  it("a 529 with a short Retry-After is not waited out: its verdict says back off, and opencode may retry it", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 529,
      headers: { "content-type": "application/json", "retry-after": "1" },
      body: envelope("overloaded_error", "Overloaded")
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const response = await send(fetch, sim)
    expect(sim.count("messages")).toBe(1)
    expect(response.status).toBe(529)
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /overloaded \(not your quota\)/
    )
  })

  it("a cap that resets within the wait cap is waited out once (the verdict says wait), then served", async () => {
    const sim = await start()
    sim.script("messages", cap(1))
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    expect((await send(fetch, sim)).status).toBe(200)
    expect(sim.count("messages")).toBe(2)
  })

  it("a cap on the only account is answered at once in the form opencode does not retry, core's message intact", async () => {
    const sim = await start()
    sim.script("messages", { ...cap(7200), times: "always" })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const response = await send(fetch, sim)
    expect(sim.count("messages")).toBe(1)
    // Not 408/409/429/>=500 (the AI SDK's isRetryable), and no text opencode's retry patterns match.
    expect([401, 403]).toContain(response.status)
    const text = await response.text()
    for (const pattern of OPENCODE_RETRY_PATTERNS) expect(text).not.toMatch(pattern)
    const body = JSON.parse(text) as { type: string; error: { type: string; message: string } }
    expect(body.type).toBe("error")
    expect(body.error.message).toMatch(/^The subscription's five_hour limit is reached; it resets at \d{4}-/)
    // The next request is answered from the skip, without a call.
    expect((await send(fetch, sim)).status).toBe(response.status)
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
    const response = await send(fetch, sim)
    expect(sim.count("messages")).toBe(1)
    // opencode's isContextOverflowError: status 400 and the message includes "prompt is too long".
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe("invalid_request_error")
    expect(body.error.message.toLowerCase()).toContain("prompt is too long")
  })

  it("an org-policy skip recorded for good holds for that login in a new process, and ends when the user logs in again", async () => {
    const sim = await start()
    sim.script("messages", {
      status: 403,
      headers: { "content-type": "application/json" },
      body: envelope("permission_error", "OAuth authentication is currently not allowed for this organization.")
    })
    const store = await tempStore()
    const key = "sk-ant-api03-test-key"
    const make = (login: AuthorizedFetch.OAuthLogin) =>
      AuthorizedFetch.make({
        accounts: [login, { type: "api", key }],
        settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url },
        store
      })
    await send(make(oauth(sim.account)), sim)
    expect(sim.count("messages")).toBe(2)
    // Another process, same login: straight to the API key, the OAuth account is not asked.
    await send(make(oauth(sim.account)), sim)
    expect(sim.count("messages")).toBe(3)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
    // The user logged in again (another refresh token in auth.json): the OAuth account is asked first again.
    const fresh = sim.seed()
    await send(make(oauth(fresh)), sim)
    expect(sim.count("messages")).toBe(4)
    expect(lastMessage(sim).bearer).not.toBeNull()
  })

  it("the status registry shows the verdict, not the HTTP status", async () => {
    const sim = await start()
    sim.script("messages", { ...cap(7200), times: "always" })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    await send(fetch, sim)
    const entries = StatusCommand.snapshot()
    expect(entries.map((e) => e.verdict)).toEqual(["RateLimited"])
    expect(StatusCommand.format()).not.toMatch(/HTTP \d/)
  })

  it("success and failure state are in the shared file when the response is handed back", async () => {
    const sim = await start()
    const store = await tempStore()
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url },
      store
    })
    const key = AuthorizedFetch.accountKey(oauth(sim.account), 0)
    expect((await send(fetch, sim)).status).toBe(200)
    expect((await store.read()).accounts[key]?.verdict).toBe("Ok")

    sim.script("messages", { ...cap(7200), times: "always" })
    await send(fetch, sim)
    const capped = (await store.read()).accounts[key]
    expect(capped?.verdict).toBe("RateLimited")
    expect(capped?.skipUntil).toBeGreaterThan(Date.now() + 3_600_000)
  })

  it("a short wait is not waited out when another account can take the request", async () => {
    const sim = await start()
    const second = sim.seed()
    sim.script("messages", {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "5" },
      body: envelope("rate_limit_error", "Number of requests has exceeded your per-minute rate limit.")
    })
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account), oauth(second)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const started = Date.now()
    expect((await send(fetch, sim)).status).toBe(200)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(lastMessage(sim).bearer).toBe(fingerprint(second.accessToken))
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
