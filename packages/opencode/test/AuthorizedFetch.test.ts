// The request path's details beyond the shared suite, against the simulator.
import * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import { afterEach, describe, expect, it } from "vitest"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"

const sims: Array<Simulator.Simulator> = []
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close()
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

const send = (fetch: AuthorizedFetch.AuthorizedFetch, sim: Simulator.Simulator, beta = "fine-grained-tool-streaming-2025-05-14") =>
  fetch(`${sim.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "", "anthropic-version": "2023-06-01", "anthropic-beta": beta },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
  })

const lastMessage = (sim: Simulator.Simulator) => sim.log.filter((r) => r.route === "messages").at(-1)!

describe("AuthorizedFetch", () => {
  it("signs with the bearer, merges the OAuth beta once, drops x-api-key and sets the User-Agent", async () => {
    const sim = await start()
    const fetch = AuthorizedFetch.make({ accounts: [oauth(sim.account)], settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url } })
    expect((await send(fetch, sim, "a-1, oauth-2025-04-20 ,b-2")).status).toBe(200)
    const request = lastMessage(sim)
    expect(request.bearer).toBe(fingerprint(sim.account.accessToken))
    expect(request.apiKey).toBeNull()
    expect(request.beta).toBe("a-1,oauth-2025-04-20,b-2")
    expect(request.userAgent).toBe(OAuthConfig.defaults.userAgent.messages)

    const custom = AuthorizedFetch.make({ accounts: [oauth(sim.account)], settings: { apiBaseUrl: sim.url }, userAgent: "ua-test/1" })
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
    const fetch = AuthorizedFetch.make({ accounts: [oauth(sim.account)], settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url } })
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
    const fetch = AuthorizedFetch.make({ accounts: [oauth(sim.account)], settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url } })
    const response = await send(fetch, sim)
    expect(response.status).toBe(429)
    const body = (await response.json()) as { type: string; error: { type: string; message: string } }
    expect(body.type).toBe("error")
    expect(body.error.type).toBe("rate_limit_error")
    expect(body.error.message).toMatch(/rate limiting/)
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
})
