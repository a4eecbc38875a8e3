// The plugin's extra accounts from its options, failing over on the request path, and the account-switch toast:
// the plugin's own pieces (the request path's account store is tested in @tollgate/requests).
import * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { extraAccounts, switchNotifier } from "../src/internal/accountStatePlugin.js"

describe("plugin options and the switch toast", () => {
  it("reads extra API-key accounts, env names first", () => {
    expect(
      extraAccounts(
        {
          accounts: [
            { type: "api", keyEnv: "K2" },
            { type: "api", key: " sk-ant-api-lit " },
            { type: "api", keyEnv: "UNSET" },
            { type: "oauth" },
            7
          ]
        },
        { K2: "sk-ant-api-env" }
      )
    ).toEqual([
      { type: "api", key: "sk-ant-api-env" },
      { type: "api", key: "sk-ant-api-lit" }
    ])
    expect(extraAccounts(undefined)).toEqual([])
    expect(extraAccounts({ accounts: "x" })).toEqual([])
  })

  it("reads extra Claude Code logins by config dir, expanding ~", () => {
    const [login] = extraAccounts(
      { accounts: [{ type: "claude-code", configDir: "~/.claude-work" }] },
      { HOME: "/home/u", USER: "u" }
    )
    expect(login).toMatchObject({
      type: "claude-code",
      location: { configDir: "/home/u/.claude-work", file: "/home/u/.claude-work/.credentials.json" }
    })
  })

  it("fails over from a capped OAuth login to another Claude Code login, signing with that store's token", async () => {
    const sim = await Simulator.start({ scenario: "happy-path" })
    const dir = await mkdtemp(join(tmpdir(), "tollgate-extra-claude-"))
    try {
      const second = sim.seed()
      await writeFile(
        join(dir, ".credentials.json"),
        JSON.stringify({
          claudeAiOauth: {
            accessToken: second.accessToken,
            refreshToken: second.refreshToken,
            expiresAt: second.expiresAt,
            scopes: [...second.scopes],
            subscriptionType: "max"
          }
        }),
        { mode: 0o600 }
      )
      sim.script("messages", {
        status: 429,
        headers: {
          "content-type": "application/json",
          "anthropic-ratelimit-unified-status": "rejected",
          "anthropic-ratelimit-unified-representative-claim": "five_hour",
          "anthropic-ratelimit-unified-reset": "{{epoch-s:+3600}}"
        },
        body: '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your account\'s rate limit."}}'
      })
      const fetch = AuthorizedFetch.make({
        accounts: [
          {
            type: "oauth",
            access: sim.account.accessToken,
            refresh: sim.account.refreshToken,
            expires: sim.account.expiresAt
          },
          ...extraAccounts({ accounts: [{ type: "claude-code", configDir: dir }] }, { HOME: dir })
        ],
        settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
      })
      const response = await fetch(`${sim.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] })
      })
      expect(response.status).toBe(200)
      const last = sim.log.filter((r) => r.route === "messages").at(-1)
      expect(last?.bearer).toBe(fingerprint(second.accessToken))
      expect(sim.count("token")).toBe(0)
    } finally {
      await sim.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("shows a warning toast when the account changes, and never throws", async () => {
    const calls: Array<unknown> = []
    switchNotifier({ client: { tui: { showToast: async (o) => void calls.push(o) } } })({
      from: 0,
      to: 1,
      reason: "capped"
    })
    expect(calls).toEqual([
      { body: { title: "tollgate", message: "Switched to account #2: capped", variant: "warning" } }
    ])
    expect(() => switchNotifier({ client: {} })({ from: 0, to: 1, reason: "x" })).not.toThrow()
    expect(() =>
      switchNotifier({
        client: {
          tui: {
            showToast: () => {
              throw new Error("boom")
            }
          }
        }
      })({ from: 0, to: 1, reason: "x" })
    ).not.toThrow()
    switchNotifier({ client: { tui: { showToast: () => Promise.reject(new Error("rejected")) } } })({
      from: 0,
      to: 1,
      reason: "x"
    })
    await new Promise((r) => setTimeout(r, 5))
  })
})
