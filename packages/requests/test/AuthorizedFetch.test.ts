// The request path on one account, against the simulator: signing, refresh, and which waits it sits out.
import { fingerprint } from "@tollgate/core/Credential"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import { describe, expect, it } from "vitest"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import { cleanUpAfterEach, cap, envelope, lastMessage, oauth, sendWithBeta, start } from "./support/simulator.js"

cleanUpAfterEach()

describe("AuthorizedFetch", () => {
  it("signs with the bearer, merges the OAuth beta once, drops x-api-key and sets the User-Agent", async () => {
    const sim = await start()
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    expect((await sendWithBeta(fetch, sim, "a-1, oauth-2025-04-20 ,b-2")).status).toBe(200)
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
    await sendWithBeta(custom, sim, "")
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
    const response = await sendWithBeta(fetch, sim)
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
    const response = await sendWithBeta(fetch, sim)
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
    expect((await sendWithBeta(fetch, sim)).status).toBe(200)
    expect(saved).toHaveLength(1)
    expect(saved[0]!.access).not.toBe(sim.account.accessToken)
    expect(lastMessage(sim).bearer).toBe(fingerprint(saved[0]!.access))
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
    const response = await sendWithBeta(fetch, sim)
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
    expect((await sendWithBeta(fetch, sim)).status).toBe(200)
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
    const response = await sendWithBeta(fetch, sim)
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
    expect((await sendWithBeta(fetch, sim)).status).toBe(200)
    expect(sim.count("messages")).toBe(2)
  })
})
