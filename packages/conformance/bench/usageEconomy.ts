// Usage-endpoint calls over 24 simulated hours: tollgate core's UsagePoller
// against the naive poller, asked once per simulated minute, each against its
// own simulator playing the same scenario on the same simulated clock.
import * as CoreAdapters from "../src/adapters/core.js"
import { find } from "../src/Catalog.js"
import * as Login from "../src/Login.js"
import type { Scenario } from "../src/Scenario.js"
import * as Simulator from "../src/Simulator.js"
import type { UsageSourceFactory } from "../src/suites/usageSource.js"
import { naivePoller } from "./naivePoller.js"

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 10, 25, 8)

/** One usage call as the simulator logged it. */
export interface Call {
  /** Simulated epoch ms. */
  readonly at: number
  readonly outcome: number | string
}

/** What one source did over the day. */
export interface Replay {
  readonly calls: ReadonlyArray<Call>
  /** The verdict the source showed at the end of the day. */
  readonly verdict: string | null
  readonly realMs: number
}

interface Verdict {
  readonly met: boolean
  readonly detail: string
}

interface Target {
  readonly text: string
  /** A hard target failing makes the benchmark exit 1. */
  readonly hard: boolean
  readonly check: (tollgate: ReadonlyArray<Call>, naive: ReadonlyArray<Call>) => Verdict
}

const none: Target = {
  text: "0 calls",
  hard: true,
  check: (t) => ({ met: t.length === 0, detail: `${t.length} calls` })
}

const atMostNaive: Target = {
  text: "≤ naive",
  hard: false,
  check: (t, n) => ({ met: t.length <= n.length, detail: `${t.length} vs ${n.length}` })
}

const healthy: Target = {
  text: "1 ≤ calls ≤ naive",
  hard: false,
  check: (t, n) => ({ met: t.length >= 1 && t.length <= n.length, detail: `${t.length} vs ${n.length}` })
}

// No call strictly inside (first 429, first 429 + seconds).
const quietAfter429 = (seconds: number, hard: boolean): Target => ({
  text: `no call < ${seconds} s after the 429`,
  hard,
  check: (t) => {
    const first = t.find((c) => c.outcome === 429)
    if (!first) return { met: false, detail: "the scripted 429 was never seen" }
    const next = t.find((c) => c.at > first.at)
    const early = t.filter((c) => c.at > first.at && c.at < first.at + seconds * 1000).length
    const gap = next ? `next call after ${Math.round((next.at - first.at) / MINUTE)} min` : "no later call"
    return { met: early === 0, detail: `${early} early; ${gap}` }
  }
})

// Both sources hold a login that outlives the day unless the scenario is about
// expiry: neither refreshes, so an 8-hour token would turn every scenario into
// a stale-token one after 8 simulated hours.
const outlivesDay = (s: Scenario): Scenario =>
  s.account?.expiresInMs !== undefined || s.account?.setupToken
    ? s
    : { ...s, account: { ...s.account, expiresInMs: 2 * DAY } }

// The catalog scripts server-error-500 on profile; the usage endpoint is what is polled here.
const onUsage = (name: string): Scenario => {
  const s = find(name)
  const steps = Object.values(s.script ?? {})[0] ?? []
  return { ...s, name: `${name} (on usage)`, script: { usage: steps } }
}

/** The scenarios replayed and what each demands of tollgate. */
export const cases: ReadonlyArray<{ readonly scenario: Scenario; readonly target: Target }> = [
  { scenario: find("happy-path"), target: healthy },
  { scenario: find("missing-profile-scope"), target: none },
  { scenario: find("setup-token"), target: none },
  { scenario: find("stale-token-429"), target: none },
  { scenario: find("retry-after-seconds"), target: quietAfter429(3600, true) },
  { scenario: find("retry-after-http-date"), target: quietAfter429(900, true) },
  { scenario: find("retry-after-ms"), target: atMostNaive },
  { scenario: find("retry-after-zero-persists"), target: atMostNaive },
  { scenario: find("retry-after-garbage"), target: atMostNaive },
  // RetryAfter's cap is 6 h: the absurd value should still buy six quiet hours.
  { scenario: find("retry-after-huge"), target: quietAfter429(6 * 3600, false) },
  { scenario: find("org-policy-403-usage"), target: atMostNaive },
  { scenario: find("invalid-bearer-401"), target: atMostNaive },
  { scenario: find("scope-403-unknown-scopes"), target: atMostNaive },
  { scenario: find("edge-challenge"), target: atMostNaive },
  { scenario: onUsage("server-error-500"), target: atMostNaive },
  { scenario: find("not-found-404"), target: atMostNaive },
  { scenario: find("transport-reset"), target: atMostNaive },
  { scenario: find("truncated-json"), target: atMostNaive }
].map((c) => ({ ...c, scenario: outlivesDay(c.scenario) }))

/** Left out, with the reason printed beside them. */
export const skipped: ReadonlyArray<{ readonly scenario: string; readonly reason: string }> = [
  {
    scenario: "transport-stall",
    reason:
      "the stalled body is only ended by the client's real-time deadline (15 s for tollgate's OAuth client), too slow for a 60 s bench"
  },
  {
    scenario: "transport-hang",
    reason: "scripted on profile, which neither poller calls; on usage it would cost the same real-time deadline"
  }
]

/** Plays 24 simulated hours of one-minute asks against a fresh simulator. */
export const replay = async (scenario: Scenario, factory: UsageSourceFactory): Promise<Replay> => {
  const started = performance.now()
  const clock = { now: T0 }
  const sim = await Simulator.start({ scenario, now: () => clock.now, ttlMs: 5 * 60_000 })
  try {
    const store = Login.fromIssued(sim.account)
    const source = await factory({ sim, login: () => store })
    let verdict: string | null = null
    for (; clock.now < T0 + DAY; clock.now += MINUTE) verdict = (await source.ask(clock.now)).verdict
    const calls = sim.log.filter((r) => r.route === "usage").map((r) => ({ at: r.at, outcome: r.outcome }))
    return { calls, verdict, realMs: Math.round(performance.now() - started) }
  } finally {
    await sim.close()
  }
}

/** One table row. */
export interface Row {
  readonly scenario: string
  readonly tollgate: Replay
  readonly naive: Replay
  readonly target: string
  readonly hard: boolean
  readonly met: boolean
  readonly detail: string
}

/** Replays every case with both sources. */
export const run = async (): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  for (const { scenario, target } of cases) {
    // The two replays share nothing but the script; running them together overlaps their socket waits.
    const [tollgate, naive] = await Promise.all([
      replay(scenario, CoreAdapters.usagePoller),
      replay(scenario, naivePoller)
    ])
    const verdict = target.check(tollgate.calls, naive.calls)
    rows.push({ scenario: scenario.name, tollgate, naive, target: target.text, hard: target.hard, ...verdict })
  }
  return rows
}
