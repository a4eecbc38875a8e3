import { afterEach, describe, expect, it } from "vitest"
import * as StatusCommand from "../src/StatusCommand.js"

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
        { account: "#1", verdict: "ok", fiveHour: 0.42, sevenDay: 0.13, resetsAt: NOW + 3 * 3_600_000 + 5 * 60_000, at: NOW - 4_000 },
        { account: "#2", verdict: "HTTP 429", fiveHour: 1, sevenDay: null, resetsAt: null, at: NOW - 125_000 }
      ],
      NOW
    )
    expect(text).toBe(
      [
        "ACCOUNT  VERDICT   5H    7D   RESETS    SEEN",
        "#1       ok        42%   13%  in 3h05m  4s ago",
        "#2       HTTP 429  100%  -    -         2m ago"
      ].join("\n")
    )
  })
})

describe("registry", () => {
  it("keeps the last report per account and earlier usage when a report has none", () => {
    StatusCommand.report({ account: "#1", verdict: "ok", fiveHour: 0.5, sevenDay: 0.25, resetsAt: NOW + 60_000, at: NOW })
    StatusCommand.report({ account: "#1", verdict: "HTTP 529", at: NOW })
    StatusCommand.report({ account: "#2", verdict: "ok", at: NOW })
    expect(StatusCommand.snapshot()).toEqual([
      { account: "#1", verdict: "HTTP 529", fiveHour: 0.5, sevenDay: 0.25, resetsAt: NOW + 60_000, at: NOW },
      { account: "#2", verdict: "ok", fiveHour: null, sevenDay: null, resetsAt: null, at: NOW }
    ])
    expect(StatusCommand.format(NOW)).toContain("#1       HTTP 529  50%  25%  in 1m")
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
  it("the tool is the plain object opencode's registry accepts and prints the table", async () => {
    expect(Object.keys(StatusCommand.tool).sort()).toEqual(["args", "description", "execute"])
    expect(StatusCommand.tool.args).toEqual({})
    StatusCommand.report({ account: "#1", verdict: "ok", fiveHour: 0.1, sevenDay: 0.2 })
    const out = await StatusCommand.tool.execute({}, {})
    expect(out).toMatch(/^ACCOUNT +VERDICT/)
    expect(out).toContain("#1       ok       10%  20%")
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
