// The daemon's own rules beyond the shared suite: free numbers first,
// an account switch starts fresh, and a restart keeps numbers and backoff.
import * as Simulator from "@tollgate/conformance/Simulator"
import * as Login from "@tollgate/conformance/Login"
import { afterEach, describe, expect, it } from "vitest"
import { harness } from "../src/ConformanceAdapters.js"

const T0 = Date.UTC(2026, 10, 25, 8)
const MINUTE = 60_000
const sims: Array<Simulator.Simulator> = []
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()))
})
const start = async (scenario: string, clock: { now: number }) => {
  const sim = await Simulator.start({ scenario, now: () => clock.now })
  sims.push(sim)
  return sim
}

describe("daemon quota", () => {
  it("fresh statusline numbers make the usage endpoint unnecessary; silence brings it back", async () => {
    const clock = { now: T0 }
    const sim = await start("happy-path", clock)
    const h = await harness(sim.url, () => Login.fromIssued(sim.account))
    // The first ask polls once (nothing known yet) for what the statusline cannot give.
    for (let i = 0; i < 50; i++, clock.now += MINUTE / 6) {
      const q = await h.ask(clock.now, {
        fiveHour: { usedPercent: 61, resetsAt: T0 + 3_600_000 },
        sevenDay: { usedPercent: 20, resetsAt: null }
      })
      expect(q.windows.fiveHour?.usedPercent).toBe(61)
      expect(q.source).toBe("statusline")
    }
    expect(sim.count("usage")).toBe(1)
    // Claude Code closes: no more stdin numbers. After ten silent minutes the endpoint is asked again.
    clock.now += 11 * MINUTE
    const q = await h.ask(clock.now)
    expect(sim.count("usage")).toBe(2)
    expect(q.source).toBe("usage-endpoint")
    expect(q.windows.fiveHour?.usedPercent).toBe(42)
  })

  it("unified headers from another adapter count as a free source (fraction → percent)", async () => {
    const clock = { now: T0 }
    const sim = await start("happy-path", clock)
    const h = await harness(sim.url, () => Login.fromIssued(sim.account))
    await h.ask(clock.now)
    clock.now += MINUTE
    await h.ingest(clock.now, {
      "anthropic-ratelimit-unified-5h-utilization": "0.73",
      "anthropic-ratelimit-unified-7d-utilization": "0.2",
      "anthropic-ratelimit-unified-5h-reset": String(Math.floor((T0 + 3_600_000) / 1000))
    })
    const q = await h.ask(clock.now)
    expect(q.source).toBe("headers")
    expect(q.windows.fiveHour).toEqual({ usedPercent: 73, resetsAt: T0 + 3_600_000 })
    expect(q.windows.sevenDay?.usedPercent).toBe(20)
  })

  it("an account switch (a new token) does not show the old account's numbers", async () => {
    const clock = { now: T0 }
    const sim = await start("happy-path", clock)
    let login = Login.fromIssued(sim.account)
    const h = await harness(sim.url, () => login)
    await h.ask(clock.now, { fiveHour: { usedPercent: 99, resetsAt: null } })
    login = Login.fromIssued(sim.seed({ utilization: { fiveHour: 5, sevenDay: 6 } }))
    const q = await h.ask(clock.now + 1)
    expect(q.windows.fiveHour?.usedPercent).toBe(5)
    expect(q.source).toBe("usage-endpoint")
  })

  it("a restart shows the last numbers at once and keeps a Retry-After", async () => {
    const clock = { now: T0 }
    const sim = await start("happy-path", clock)
    const login = () => Login.fromIssued(sim.account)
    const first = await harness(sim.url, login)
    await first.ask(clock.now)
    clock.now += 11 * MINUTE
    sim.script("usage", {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "3600" },
      body: '{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited."}}'
    })
    const limited = await first.ask(clock.now)
    expect(limited.verdict).toBe("RateLimited")
    expect(sim.count("usage")).toBe(2)
    const { state } = await import("effect/Effect").then((E) => E.runPromise(first.quota.persisted))
    const restarted = await harness(sim.url, login, JSON.parse(JSON.stringify(state)))
    clock.now += 30 * MINUTE
    const after = await restarted.ask(clock.now)
    expect(after.windows.fiveHour?.usedPercent).toBe(42)
    expect(sim.count("usage")).toBe(2)
    clock.now += 31 * MINUTE
    await restarted.ask(clock.now)
    expect(sim.count("usage")).toBe(3)
  })
})
