// Transport faults never hang a caller or crash the process: each ends in the
// right verdict within the request deadline, on every endpoint.
import type { Endpoint } from "@tollgate/core/Endpoint"
import { afterEach, describe, expect, it } from "vitest"
import { classifier, oauthClient } from "../src/adapters/core.js"
import { catalog } from "../src/Catalog.js"
import * as Login from "../src/Login.js"
import type { Step } from "../src/Scenario.js"
import * as Simulator from "../src/Simulator.js"

const DEADLINE_MS = 500
const sims: Array<Simulator.Simulator> = []
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()))
})
const start = async (options: Simulator.Options) => {
  const sim = await Simulator.start(options)
  sims.push(sim)
  return sim
}

const adapters = { classifier, "OAuth client": oauthClient } as const
const ENDPOINTS: ReadonlyArray<Endpoint> = ["token", "usage", "profile"]
const FAULTS: ReadonlyArray<[Step, string, string]> = [
  [{ status: 200, fault: "hang" }, "Transport", "timeout"],
  [
    {
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"access_token":"x","expires_in":1}',
      fault: "stall"
    },
    "Transport",
    "timeout"
  ],
  [{ status: 200, fault: "reset" }, "Transport", "reset"],
  [
    {
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"five_hour":{"utilization":1}}',
      fault: "truncate"
    },
    "Decode",
    ""
  ]
]

describe("transport faults end within the deadline", () => {
  for (const [name, make] of Object.entries(adapters)) {
    for (const scenario of catalog.filter((s) => s.tags?.includes("transport"))) {
      for (const [endpoint, expected] of Object.entries(scenario.expect ?? {})) {
        it(`${name}: ${scenario.name} on ${endpoint} → ${expected.tag}`, async () => {
          const sim = await start({ scenario })
          const started = performance.now()
          const verdict = await (await make()).call(endpoint as Endpoint, {
            sim,
            login: Login.fromIssued(sim.account),
            timeoutMs: DEADLINE_MS
          })
          expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 1_500)
          expect(verdict.tag).toBe(expected.tag)
        })
      }
    }
    for (const endpoint of ENDPOINTS) {
      for (const [step, tag, reason] of FAULTS) {
        it(`${name}: ${step.fault} on ${endpoint} → ${tag}${reason ? ` (${reason})` : ""}`, async () => {
          const sim = await start({})
          sim.script(endpoint, step)
          const started = performance.now()
          const verdict = await (await make()).call(endpoint, {
            sim,
            login: Login.fromIssued(sim.account),
            timeoutMs: DEADLINE_MS
          })
          expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 1_500)
          expect(verdict.tag).toBe(tag)
          if (reason) expect(verdict["reason"]).toBe(reason)
        })
      }
    }
  }

  it("a simulator that stops mid-request leaves callers with a transport verdict, and the process alive", async () => {
    const sim = await start({})
    sim.script("usage", { status: 200, fault: "hang" })
    const pending = (await oauthClient()).call("usage", { sim, login: Login.fromIssued(sim.account), timeoutMs: 5_000 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    await sim.close()
    const verdict = await pending
    expect(verdict.tag).toBe("Transport")
  })
})
