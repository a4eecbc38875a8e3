// The request path across accounts, against the simulator: failing over, and the verdicts shared through the store.
import { join } from "node:path"
import { fingerprint } from "@tollgate/core/Credential"
import { describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import {
  cleanUpAfterEach,
  cap,
  envelope,
  lastMessage,
  oauth,
  sendWithBeta,
  start,
  tempDir
} from "./support/simulator.js"

cleanUpAfterEach()

const tempStore = async () => AccountStore.make(join(await tempDir("tollgate-fetch-"), "opencode-accounts.json"))

describe("AuthorizedFetch across accounts", () => {
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
    await sendWithBeta(fetch, sim)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
    expect(lastMessage(sim).bearer).toBeNull()
    await sendWithBeta(fetch, sim)
    expect(sim.count("messages")).toBe(3)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
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
    await sendWithBeta(make(oauth(sim.account)), sim)
    expect(sim.count("messages")).toBe(2)
    // Another process, same login: straight to the API key, the OAuth account is not asked.
    await sendWithBeta(make(oauth(sim.account)), sim)
    expect(sim.count("messages")).toBe(3)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
    // The user logged in again (another refresh token in auth.json): the OAuth account is asked first again.
    const fresh = sim.seed()
    await sendWithBeta(make(oauth(fresh)), sim)
    expect(sim.count("messages")).toBe(4)
    expect(lastMessage(sim).bearer).not.toBeNull()
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
    expect((await sendWithBeta(fetch, sim)).status).toBe(200)
    expect((await store.read()).accounts[key]?.verdict).toBe("Ok")

    sim.script("messages", { ...cap(7200), times: "always" })
    await sendWithBeta(fetch, sim)
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
    expect((await sendWithBeta(fetch, sim)).status).toBe(200)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(lastMessage(sim).bearer).toBe(fingerprint(second.accessToken))
  })
})
