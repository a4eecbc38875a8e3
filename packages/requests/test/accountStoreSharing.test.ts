// Shared per-account state across AuthorizedFetch instances (processes) and restarts.
import { fingerprint } from "@tollgate/core/Credential"
import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import type * as AccountState from "../src/internal/accountState.js"
import { cleanUpAfterEach, envelope, lastMessage, oauth, send, start, tempDir } from "./support/simulator.js"

cleanUpAfterEach()

const capStep = (resetS: number) => ({
  status: 429,
  headers: {
    "content-type": "application/json",
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-reset": String(resetS),
    "anthropic-ratelimit-unified-5h-utilization": "1.0"
  },
  body: envelope("rate_limit_error", "This request would exceed your account's rate limit. Please try again later.")
})

describe("AccountStore with AuthorizedFetch", () => {
  it("a cap seen by one process makes another skip that account, and a restart keeps it", async () => {
    const sim = await start()
    const dir = await tempDir()
    const path = join(dir, "state", "tollgate", "opencode-accounts.json")
    const key = "sk-ant-api03-second-account"
    const make = (onSwitch?: (e: AuthorizedFetch.SwitchEvent) => void) =>
      AuthorizedFetch.make({
        accounts: [oauth(sim.account), { type: "api", key }],
        settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url },
        store: AccountStore.make(path),
        ...(onSwitch ? { onSwitch } : {})
      })
    const switchesA: Array<AuthorizedFetch.SwitchEvent> = []
    const a = make((e) => switchesA.push(e))
    const b = make()

    // B first served by account #1.
    expect((await send(b, sim)).status).toBe(200)
    expect(lastMessage(sim).bearer).toBe(fingerprint(sim.account.accessToken))

    // A hits the cap on #1 and fails over to the API key.
    sim.script("messages", capStep(Math.floor(Date.now() / 1000) + 7200))
    expect((await send(a, sim)).status).toBe(200)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
    expect(switchesA).toHaveLength(1)
    expect(switchesA[0]).toMatchObject({ from: 0, to: 1 })

    // The file: fingerprints only, 0600 in a 0700 dir.
    const text = await readFile(path, "utf8")
    expect(text).not.toContain(sim.account.refreshToken)
    expect(text).not.toContain(sim.account.accessToken)
    expect(text).not.toContain(key)
    const file = JSON.parse(text) as AccountState.StoreFile
    const capped = file.accounts[AuthorizedFetch.accountKey(oauth(sim.account), 0)]!
    expect(capped.verdict).toBe("RateLimited")
    expect(capped.skipUntil).toBeGreaterThan(Date.now() + 3600_000)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, "state", "tollgate"))).mode & 0o777).toBe(0o700)

    // B goes straight to #2 without asking #1.
    const before = sim.count("messages")
    expect((await send(b, sim)).status).toBe(200)
    expect(sim.count("messages")).toBe(before + 1)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))

    // A restart (new instance over the same file) still skips #1.
    const c = make()
    expect((await send(c, sim)).status).toBe(200)
    expect(sim.count("messages")).toBe(before + 2)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
  })

  it("without a store nothing is written and behaviour is unchanged", async () => {
    const sim = await start()
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    expect((await send(fetch, sim)).status).toBe(200)
  })

  it("records quota from the unified headers on success", async () => {
    const sim = await start()
    const dir = await tempDir()
    const path = join(dir, "accounts.json")
    sim.script("messages", {
      status: 200,
      headers: {
        "content-type": "application/json",
        "anthropic-ratelimit-unified-5h-utilization": "0.25",
        "anthropic-ratelimit-unified-7d-utilization": "0.5",
        "anthropic-ratelimit-unified-reset": "2000000000"
      },
      body: JSON.stringify({
        id: "m",
        type: "message",
        role: "assistant",
        content: [],
        model: "x",
        stop_reason: "end_turn"
      })
    })
    const store = AccountStore.make(path)
    const fetch = AuthorizedFetch.make({ accounts: [oauth(sim.account)], settings: { apiBaseUrl: sim.url }, store })
    expect((await send(fetch, sim)).status).toBe(200)
    // The success write is not awaited by the request; wait for it.
    let state: AccountState.AccountState | undefined
    for (let i = 0; i < 100 && state?.fiveHour == null; i++) {
      await new Promise((r) => setTimeout(r, 10))
      state = (await store.read()).accounts[AuthorizedFetch.accountKey(oauth(sim.account), 0)]
    }
    expect(state).toMatchObject({
      verdict: "Ok",
      skipUntil: null,
      fiveHour: 0.25,
      sevenDay: 0.5,
      resetsAt: 2_000_000_000_000
    })
  })
})
