/**
 * usageSourceSuite: a quota source (daemon, statusline, plugin) reads usage
 * without ever hammering the endpoint. Time is simulated: the suite asks the
 * source at one-minute steps and the simulator stamps requests with the same
 * clock, so a day passes in milliseconds.
 *
 * @since 0.1.0
 */
import { find } from "../Catalog.js"
import * as Login from "../Login.js"
import type { Scenario } from "../Scenario.js"
import type { Simulator } from "../Simulator.js"
import { type Case, type Context, demand, type Suite } from "../Suite.js"

/** What the source shows after one ask. @since 0.1.0 */
export interface Reading {
  /** The verdict that stops or delays polling, `null` when all is well. */
  readonly verdict: string | null
  /** Five-hour utilisation, 0..100, `null` when unknown or no longer trusted. */
  readonly fiveHour: number | null
  readonly sevenDay: number | null
}

/** What an adapter under the usage-source suite does: answer an ask for quota at a simulated time. @since 0.1.0 */
export interface UsageSourceAdapter {
  /** Someone asks for quota at simulated time `now` (epoch ms); the source decides whether to call. */
  readonly ask: (now: number) => Promise<Reading>
}

/** What each case gives the adapter: a running simulator and the login as the store holds it now. @since 0.1.0 */
export interface Target {
  readonly sim: Simulator
  /** The login as the store holds it now; a source re-reads it on every ask. */
  readonly login: () => Login.Login
}

/** Makes a usage-source adapter for one case's simulator and login. @since 0.1.0 */
export type UsageSourceFactory = (target: Target) => UsageSourceAdapter | Promise<UsageSourceAdapter>

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** The slowest a source may be forced to go by `retry-after: 0` is its own floor; no floor below a minute is sane. */
const FLOOR_MS = MINUTE
const T0 = Date.UTC(2026, 10, 25, 8)

interface Run {
  readonly sim: Simulator
  readonly source: UsageSourceAdapter
  readonly clock: { now: number }
  readonly store: { login: Login.Login }
}

const setup = async (factory: UsageSourceFactory, context: Context, scenario: Scenario | string): Promise<Run> => {
  const clock = { now: T0 }
  const sim = await context.simulator({ scenario, now: () => clock.now })
  const store = { login: Login.fromIssued(sim.account) }
  const source = await factory({ sim, login: () => store.login })
  return { sim, source, clock, store }
}

const drive = async (run: Run, forMs: number, stepMs = MINUTE): Promise<Array<Reading>> => {
  const readings: Array<Reading> = []
  const until = run.clock.now + forMs
  for (; run.clock.now <= until; run.clock.now += stepMs) readings.push(await run.source.ask(run.clock.now))
  return readings
}

const usageCalls = (sim: Simulator) => sim.log.filter((r) => r.route === "usage")

const cases: ReadonlyArray<Case<UsageSourceFactory, Capability>> = [
  {
    name: "a healthy login shows its numbers and polls at most every 10 minutes",
    scenario: "happy-path",
    run: async (factory, context) => {
      // A login that outlives the simulated day, so expiry does not end polling early.
      const run = await setup(factory, context, { ...find("happy-path"), account: { expiresInMs: 2 * DAY } })
      const readings = await drive(run, DAY)
      const last = readings[readings.length - 1]!
      demand(
        last.fiveHour === 42 && last.sevenDay === 13,
        `shows 5h 42% and 7d 13% (got ${last.fiveHour}/${last.sevenDay})`
      )
      const calls = usageCalls(run.sim)
      demand(calls.length >= 1, "asks the usage endpoint at least once")
      demand(
        calls.length <= DAY / (10 * MINUTE) + 1,
        `at most one call per 10 minutes over a day (made ${calls.length})`
      )
      for (let i = 1; i < calls.length; i++) {
        demand(calls[i]!.at - calls[i - 1]!.at >= 10 * MINUTE, "consecutive calls are at least 10 minutes apart")
      }
    }
  },
  {
    name: "a token without user:profile never calls the usage endpoint",
    scenario: "missing-profile-scope",
    requires: ["scopeCheck"],
    run: async (factory, context) => {
      const run = await setup(factory, context, "missing-profile-scope")
      const readings = await drive(run, DAY)
      demand(
        usageCalls(run.sim).length === 0,
        `0 usage calls over a simulated day (made ${usageCalls(run.sim).length})`
      )
      demand(
        readings.every((r) => r.verdict === "MissingScope"),
        "the verdict says the scope is missing"
      )
    }
  },
  {
    name: "a setup-token (inference only) never calls the usage endpoint",
    scenario: "setup-token",
    requires: ["scopeCheck"],
    run: async (factory, context) => {
      const run = await setup(factory, context, "setup-token")
      await drive(run, 6 * HOUR)
      demand(usageCalls(run.sim).length === 0, "0 usage calls")
    }
  },
  {
    name: "a 429 with Retry-After: 3600 means no call for an hour",
    scenario: "retry-after-seconds",
    run: async (factory, context) => {
      const run = await setup(factory, context, "retry-after-seconds")
      await drive(run, 3 * HOUR)
      const calls = usageCalls(run.sim)
      demand(calls.length >= 2, "calls again after the hour")
      demand(
        calls[1]!.at - calls[0]!.at >= HOUR,
        `the second call waits the hour (waited ${Math.round((calls[1]!.at - calls[0]!.at) / MINUTE)} min)`
      )
    }
  },
  {
    name: "a 429 with retry-after: 0 repeated is spaced by the policy floor and backs off, never faster",
    scenario: "retry-after-zero-persists",
    run: async (factory, context) => {
      const run = await setup(factory, context, "retry-after-zero-persists")
      const readings = await drive(run, 6 * HOUR)
      const calls = usageCalls(run.sim)
      for (let i = 1; i < calls.length; i++) {
        demand(calls[i]!.at - calls[i - 1]!.at >= FLOOR_MS, "no two calls closer than the one-minute floor")
      }
      demand(calls.length < 6 * 6, `fewer calls than a naive 10-minute poller over 6 h (made ${calls.length})`)
      demand(
        readings.at(-1)?.verdict === "RateLimited",
        `the verdict says rate limited (got ${readings.at(-1)?.verdict})`
      )
    }
  },
  {
    name: "a stale token (past expiresAt) is reported as expired and never polled",
    scenario: "stale-token-429",
    requires: ["staleCheck"],
    run: async (factory, context) => {
      const run = await setup(factory, context, "stale-token-429")
      const readings = await drive(run, 6 * HOUR)
      demand(usageCalls(run.sim).length === 0, `0 usage calls (made ${usageCalls(run.sim).length})`)
      demand(
        readings.every((r) => r.verdict === "TokenExpired"),
        "the verdict says the token expired"
      )
    }
  },
  {
    name: "a 403 org-policy verdict differs from a missing scope, and stops calls",
    scenario: "org-policy-403-usage",
    run: async (factory, context) => {
      const org = await setup(factory, context, "org-policy-403-usage")
      const readings = await drive(org, 6 * HOUR)
      demand(usageCalls(org.sim).length === 1, `one call, then none (made ${usageCalls(org.sim).length})`)
      const verdict = readings.at(-1)?.verdict
      demand(verdict === "OrgPolicyDenied", `the verdict says org policy (got ${verdict})`)
      const scope = await setup(factory, context, "scope-403-unknown-scopes")
      const scopeVerdict = (await drive(scope, 30 * MINUTE)).at(-1)?.verdict
      demand(scopeVerdict !== verdict, "a missing scope reads differently from an org policy")
    }
  },
  {
    name: "cached numbers are cleared when a 401 or 403 says they can no longer be trusted",
    scenario: "happy-path, then 401 and 403",
    run: async (factory, context) => {
      for (const status of [401, 403] as const) {
        const run = await setup(factory, context, "happy-path")
        const first = await run.source.ask(run.clock.now)
        demand(first.fiveHour === 42, "shows numbers while healthy")
        run.sim.script(
          "usage",
          status === 401
            ? {
                status: 401,
                headers: { "content-type": "application/json" },
                body: '{"type":"error","error":{"type":"authentication_error","message":"Invalid bearer token"}}'
              }
            : {
                status: 403,
                headers: { "content-type": "application/json" },
                body: '{"type":"error","error":{"type":"permission_error","message":"OAuth token has been revoked"}}'
              }
        )
        const later = await drive(run, HOUR)
        const last = later.at(-1)!
        demand(last.fiveHour === null && last.sevenDay === null, `numbers cleared after a ${status}`)
      }
    }
  },
  {
    name: "a new token (account switch or refresh) starts fresh after a permanent verdict",
    scenario: "scope-403-unknown-scopes",
    requires: ["followsLogin"],
    run: async (factory, context) => {
      const run = await setup(factory, context, "scope-403-unknown-scopes")
      await drive(run, 30 * MINUTE)
      demand(usageCalls(run.sim).length === 1, "one call with the refused token")
      run.store.login = Login.fromIssued(run.sim.rotateElsewhere()!)
      const after = await run.source.ask(run.clock.now)
      demand(
        usageCalls(run.sim).length === 2,
        `the new token is asked at once (usage calls: ${usageCalls(run.sim).length})`
      )
      demand(after.fiveHour === 42 && after.verdict === null, "and its numbers are shown")
    }
  }
]

/** What each capability of this suite means; a case names the ones it needs. @since 0.2.0 */
export const capabilities = {
  scopeCheck: "checks the stored scopes before calling",
  staleCheck: "checks expiresAt before calling",
  followsLogin: "re-reads the login so a new token is noticed"
} as const

/** A capability an adapter of this suite may declare. @since 0.2.0 */
export type Capability = keyof typeof capabilities

/** The usage-source suite: its cases and the capabilities they may need. @since 0.1.0 */
export const suite: Suite<UsageSourceFactory, Capability> = {
  name: "usage-source",
  capabilities,
  cases
}
