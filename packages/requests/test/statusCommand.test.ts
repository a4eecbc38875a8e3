import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as StatusCommand from "../src/StatusCommand.js"

// Never the real home: the state file's default path follows XDG_STATE_HOME.
let temp = ""
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "tollgate-status-"))
  vi.stubEnv("XDG_STATE_HOME", join(temp, "state"))
})
afterAll(async () => {
  vi.unstubAllEnvs()
  await rm(temp, { recursive: true, force: true })
})

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)

afterEach(() => StatusCommand.clear())

describe("formatTable", () => {
  it("says so when nothing has been seen", () => {
    expect(StatusCommand.formatTable([], NOW)).toBe(
      "tollgate: no Anthropic request has gone through tollgate yet in this session."
    )
  })

  it("renders aligned columns: account, verdict, 5h/7d percentages, reset and age", () => {
    const text = StatusCommand.formatTable(
      [
        {
          account: "#1",
          verdict: "ok",
          fiveHour: 0.42,
          sevenDay: 0.13,
          resetsAt: NOW + 3 * 3_600_000 + 5 * 60_000,
          at: NOW - 4_000
        },
        { account: "#2", verdict: "RateLimited", fiveHour: 1, sevenDay: null, resetsAt: null, at: NOW - 125_000 }
      ],
      NOW
    )
    expect(text).toBe(
      [
        "ACCOUNT  VERDICT      5H    7D   RESETS    SEEN",
        "#1       ok           42%   13%  in 3h05m  4s ago",
        "#2       RateLimited  100%  -    -         2m ago"
      ].join("\n")
    )
  })
})

describe("registry", () => {
  it("keeps the last report per account and earlier usage when a report has none", () => {
    StatusCommand.report({
      account: "#1",
      verdict: "ok",
      fiveHour: 0.5,
      sevenDay: 0.25,
      resetsAt: NOW + 60_000,
      at: NOW
    })
    StatusCommand.report({ account: "#1", verdict: "Overloaded", at: NOW })
    StatusCommand.report({ account: "#2", verdict: "ok", at: NOW })
    expect(StatusCommand.snapshot()).toEqual([
      { account: "#1", verdict: "Overloaded", fiveHour: 0.5, sevenDay: 0.25, resetsAt: NOW + 60_000, at: NOW },
      { account: "#2", verdict: "ok", fiveHour: null, sevenDay: null, resetsAt: null, at: NOW }
    ])
    expect(StatusCommand.format(NOW)).toContain("#1       Overloaded  50%  25%  in 1m")
  })

  it("reads usage from the unified rate-limit headers", () => {
    const headers = new Headers({
      "anthropic-ratelimit-unified-5h-utilization": "0.42",
      "anthropic-ratelimit-unified-7d-utilization": "0.13",
      "anthropic-ratelimit-unified-reset": "1767272400"
    })
    expect(StatusCommand.usageFromHeaders(headers)).toEqual({ fiveHour: 0.42, sevenDay: 0.13, resetsAt: 1767272400000 })
    expect(StatusCommand.usageFromHeaders(new Headers())).toEqual({})
  })
})

describe("opencode hooks", () => {
  it("the tool is the plain object opencode's registry accepts and prints the shared state file", async () => {
    expect(Object.keys(StatusCommand.tool).sort()).toEqual(["args", "description", "execute"])
    expect(StatusCommand.tool.args).toEqual({})
    const store = AccountStore.make()
    expect(store.path).toBe(join(temp, "state", "tollgate", "opencode-accounts.json"))
    await store.update("api:fp-tool", { verdict: "Ok", fiveHour: 0.1, sevenDay: 0.2 })
    const out = await StatusCommand.tool.execute({}, {})
    expect(out).toContain(store.path)
    expect(out).toMatch(/api:fp-tool +Ok +10% +20%/)
  })

  it("the config hook registers /tollgate and keeps other commands and a user's own tollgate", async () => {
    const config: { command?: Record<string, unknown> } = {}
    await StatusCommand.registerCommand(config)
    expect(config.command?.["tollgate"]).toEqual({
      description: "Show tollgate accounts, verdicts and usage",
      template: "Call the tollgate_status tool and show its output verbatim."
    })
    const mine = { command: { tollgate: { template: "mine" }, other: { template: "x" } } }
    await StatusCommand.registerCommand(mine)
    expect(mine.command).toEqual({ tollgate: { template: "mine" }, other: { template: "x" } })
  })
})

describe("the shared state file", () => {
  const file = {
    version: 1 as const,
    accounts: {
      "oauth:id:uuid-b": {
        verdict: "RateLimited",
        skipUntil: NOW + 2 * 3_600_000,
        blockedFingerprint: "fp-b",
        fiveHour: 1,
        sevenDay: 0.5,
        resetsAt: NOW + 2 * 3_600_000,
        updatedAt: NOW - 30_000
      },
      "api:fp-a": {
        verdict: "OrgPolicyDenied",
        skipUntil: Number.MAX_SAFE_INTEGER,
        blockedFingerprint: "fp-a",
        fiveHour: null,
        sevenDay: null,
        resetsAt: null,
        updatedAt: NOW - 5_000
      }
    },
    backoff: {
      "token oauth:id:uuid-b": {
        failures: 1,
        until: NOW + 3_600_000,
        blockedFingerprint: null,
        verdict: "RateLimited"
      },
      "token api:old": { failures: 2, until: NOW - 1, blockedFingerprint: null, verdict: "RateLimited" }
    }
  }

  it("renders every account with verdict, quota, reset, skip and age; only live backoffs", () => {
    const text = StatusCommand.formatState(StatusCommand.stateView("/s/opencode-accounts.json", file), NOW)
    expect(text).toBe(
      [
        "tollgate: accounts recorded by every opencode process (/s/opencode-accounts.json)",
        "ACCOUNT          VERDICT          5H    7D   RESETS    SKIPPED        UPDATED",
        "api:fp-a         OrgPolicyDenied  -     -    -         until you act  5s ago",
        "oauth:id:uuid-b  RateLimited      100%  50%  in 2h00m  for 2h00m      30s ago",
        "token endpoint for oauth:id:uuid-b: backing off for 1h00m after 1 failure (RateLimited)"
      ].join("\n")
    )
  })

  it("says so when the file has no account", () => {
    expect(StatusCommand.formatState(StatusCommand.stateView("/p", { accounts: {}, backoff: {} }), NOW)).toBe(
      "tollgate: accounts recorded by every opencode process (/p)\nNo account has been used through tollgate yet."
    )
  })

  it("answer: posts the table as a never-replied, ignored, finished message and a toast; options problems last", async () => {
    const path = join(temp, "answer", "opencode-accounts.json")
    await AccountStore.make(path).update("api:fp-x", { verdict: "RateLimited", skipUntil: Date.now() + 60_000 })
    const prompts: Array<unknown> = []
    const toasts: Array<unknown> = []
    const text = await StatusCommand.answer(
      {
        session: { prompt: async (o) => void prompts.push(o) },
        tui: { showToast: async (o) => void toasts.push(o) }
      },
      "ses_1",
      { path, problems: ["accounts[0].keyEnv: the environment variable NOPE is not set"] }
    )
    expect(text).toMatch(/api:fp-x +RateLimited/)
    expect(text).toContain("Plugin options ignored:\n- accounts[0].keyEnv: the environment variable NOPE is not set")
    expect(prompts).toEqual([
      {
        path: { id: "ses_1" },
        body: { noReply: true, parts: [{ type: "text", text, ignored: true, time: expect.objectContaining({}) }] }
      }
    ])
    const part = (prompts[0] as { body: { parts: Array<{ time: { start: number; end: number } }> } }).body.parts[0]!
    expect(part.time.end).toBeGreaterThanOrEqual(part.time.start)
    expect(toasts).toEqual([{ body: { title: "tollgate", message: text, variant: "info" } }])
  })

  it("answer: a client without session or tui, or one that rejects, still resolves", async () => {
    await expect(StatusCommand.answer({}, "s")).resolves.toContain("tollgate:")
    await expect(
      StatusCommand.answer(
        {
          session: { prompt: () => Promise.reject(new Error("x")) },
          tui: { showToast: () => Promise.reject(new Error("y")) }
        },
        "s"
      )
    ).resolves.toContain("tollgate:")
  })
})
