// `pnpm bench`: classifier throughput, usage-polling economy and refresh
// economy. Prints tables, writes bench-results.json beside package.json, and
// exits 1 when a hard target fails. Speed is only ever reported as a ratio to
// a baseline measured in the same run, never as an absolute time.
import { writeFile } from "node:fs/promises"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import * as ClassifierThroughput from "./classifierThroughput.js"
import * as Corpus from "./corpus.js"
import * as NaivePoller from "./naivePoller.js"
import * as RefreshEconomy from "./refreshEconomy.js"
import { count, met, ratio, section } from "../src/BenchTable.js"
import * as UsageEconomy from "./usageEconomy.js"

const RESULTS = fileURLToPath(new URL("../bench-results.json", import.meta.url))

interface HardTarget {
  readonly name: string
  readonly met: boolean
  readonly detail: string
}

const classifierSection = async () => {
  const now = Date.now()
  const scripted = Corpus.scripted(now)
  const healthy = await Corpus.recordHealthy()
  const all = [...scripted, ...healthy]
  // One 1 MiB body costs the baseline more than the rest of the corpus together, so it is reported apart.
  const small = all.filter((r) => r.body.length <= 64 * 1024)
  const results = [
    ClassifierThroughput.measure(`all ${all.length} responses`, all),
    ClassifierThroughput.measure(`without bodies > 64 KiB (${small.length})`, small)
  ]
  const text = section(
    "Classifier throughput (informational)",
    ["corpus", "classifications/s", "baseline ops/s", "classifier cost (× baseline)"],
    results.map((r) => [r.corpus, count(r.classifyPerSecond), count(r.baselinePerSecond), r.costMultiple.toFixed(2)]),
    [
      `corpus: ${scripted.length} scripted steps of ${new Set(scripted.map((r) => r.label.split("/")[0])).size} catalog scenarios + ${healthy.length} healthy answers recorded from a live simulator`,
      `verdicts: ${Object.entries(results[0]!.verdicts)
        .map(([tag, n]) => `${tag} ${n}`)
        .join(", ")}`,
      "baseline: decode the body, JSON.parse it in try/catch (skipped when no response arrived), read the headers the classifier reads",
      `median of ${ClassifierThroughput.defaultOptions.rounds} alternating rounds of ${ClassifierThroughput.defaultOptions.roundMs} ms after ${ClassifierThroughput.defaultOptions.warmupMs} ms warm-up; bodies cut at the OAuth client's 1 MiB read cap`
    ]
  )
  return { text, results }
}

const usageSection = async () => {
  const rows = await UsageEconomy.run()
  const text = section(
    "Usage-endpoint calls over 24 simulated hours (one ask per simulated minute)",
    [
      "scenario",
      "tollgate usage calls",
      "naive usage calls",
      "ratio (tollgate/naive)",
      "target",
      "met?",
      "detail",
      "tollgate verdict at end"
    ],
    rows.map((r) => [
      r.scenario,
      r.tollgate.calls.length,
      r.naive.calls.length,
      ratio(r.tollgate.calls.length, r.naive.calls.length),
      r.hard ? `${r.target} (hard)` : r.target,
      met(r.met, r.hard),
      r.detail,
      r.tollgate.verdict ?? "—"
    ]),
    [
      `naive: fixed ${NaivePoller.INTERVAL_MS / 60_000}-minute polling, ${NaivePoller.PAUSE_MS / 60_000}-minute pause after any 401/403/429, UA ${NaivePoller.USER_AGENT}, Retry-After/scopes/expiresAt ignored, ${NaivePoller.REQUEST_TIMEOUT_MS} ms real-time fetch deadline`,
      "tollgate: CoreAdapters.usagePoller (UsagePoller + Backoff, default tuning, 10-minute interval + up to 60 s jitter)",
      'scripted single steps answer once and the simulator then behaves normally; "always" steps keep answering. A permanent verdict (org policy, invalid token, missing scope) stops tollgate until the login changes, even though the simulator would have recovered — that is the reference\'s rule, and it is why those rows are near 0',
      "every account holds a 2-day token unless the scenario is about expiry, so neither source runs into an 8-hour expiry halfway through the day",
      ...UsageEconomy.skipped.map((s) => `skipped ${s.scenario}: ${s.reason}`)
    ]
  )
  const hard: Array<HardTarget> = rows
    .filter((r) => r.hard)
    .map((r) => ({ name: `usage: ${r.scenario}: ${r.target}`, met: r.met, detail: r.detail }))
  return { text, rows, hard }
}

const refreshSection = async () => {
  const result = await RefreshEconomy.run()
  const outcome = (o: RefreshEconomy.Outcome, target: string, ok: string) => [
    o.client,
    o.tokenCalls,
    o.rotations,
    o.invalidGrant,
    `${o.succeeded}/${RefreshEconomy.CONCURRENT}`,
    target,
    ok
  ]
  const text = section(
    `Token-endpoint calls for ${RefreshEconomy.CONCURRENT} concurrent requests with an expired access token`,
    ["client", "token calls", "rotations", "invalid_grant", "requests left with a login", "target", "met?"],
    [
      outcome(
        result.singleFlight,
        "≤ 1 refresh per rotation (hard); all succeed",
        `${met(result.met, true)}; ${result.allSucceeded ? "all succeeded" : "NOT all succeeded"}`
      ),
      outcome(result.naive, "— (what it costs without single-flight)", "—")
    ],
    [
      `ratio (single-flight/none): ${ratio(result.singleFlight.tokenCalls, result.naive.tokenCalls)} token calls`,
      "no single-flight: each request refreshes with the stored refresh token; the first rotation kills it, so the rest get invalid_grant and that client is logged out"
    ]
  )
  const hard: Array<HardTarget> = [
    {
      name: "refresh: single-flight ≤ 1 refresh per rotation",
      met: result.met,
      detail: `${result.singleFlight.tokenCalls} token calls`
    }
  ]
  return { text, result, hard }
}

const main = async (): Promise<number> => {
  const started = performance.now()
  console.log(`# tollgate bench — node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()}/${os.arch()}`)

  const classifier = await classifierSection()
  console.log(classifier.text)
  const usage = await usageSection()
  console.log(usage.text)
  const refresh = await refreshSection()
  console.log(refresh.text)

  const hard = [...usage.hard, ...refresh.hard]
  const failed = hard.filter((t) => !t.met)
  const wallMs = Math.round(performance.now() - started)
  console.log(`\n## Hard targets: ${hard.length - failed.length}/${hard.length} met`)
  for (const t of failed) console.log(`- FAILED ${t.name} (${t.detail})`)
  console.log(`\nwall time ${(wallMs / 1000).toFixed(1)} s; results in ${RESULTS}`)

  await writeFile(
    RESULTS,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        environment: { node: process.version, platform: os.platform(), arch: os.arch(), cpus: os.cpus().length },
        wallMs,
        classifierThroughput: classifier.results,
        usageEconomy: {
          skipped: UsageEconomy.skipped,
          rows: usage.rows.map((r) => ({
            scenario: r.scenario,
            tollgateCalls: r.tollgate.calls.length,
            naiveCalls: r.naive.calls.length,
            ratio: r.naive.calls.length === 0 ? null : r.tollgate.calls.length / r.naive.calls.length,
            target: r.target,
            hard: r.hard,
            met: r.met,
            detail: r.detail,
            tollgateVerdict: r.tollgate.verdict,
            naiveVerdict: r.naive.verdict,
            tollgateCallTimes: r.tollgate.calls,
            naiveCallTimes: r.naive.calls
          }))
        },
        refreshEconomy: refresh.result,
        hardTargets: hard,
        ok: failed.length === 0
      },
      null,
      2
    )}\n`
  )
  return failed.length === 0 ? 0 : 1
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
