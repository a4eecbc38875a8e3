// `pnpm bench` for claude-credentials: the window a SIGKILL can still lose a
// login in. A refresh prepares its write before it spends the refresh token
// (temp file created, filled and fsync'd, owner taken); from the moment the
// token response is in memory to the rename that stores it, only the compare-
// and-swap read, the final bytes, one fsync and the rename remain.
//
// Measured in-process, on loopback, against the simulator, with a real file
// store in a temp directory: the end of Refresher.SPAN_REQUEST (tokens
// received) to the end of Refresher.SPAN_PERSIST (renamed), over many
// refreshes. Reported next to a baseline measured in the same run: one
// durable atomic write of the same document (AtomicFile.write). Hard target
// (the reliability issue): p99 ≤ 5 ms on loopback. Exits 1 when it fails.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeHttpClient } from "@effect/platform-node"
import { met, ratio, section } from "@tollgate/conformance/BenchTable"
import * as Simulator from "@tollgate/conformance/Simulator"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import { AtomicFile } from "@tollgate/files"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ClaudeCredentials from "../src/ClaudeCredentials.js"
import { SPAN_PERSIST, SPAN_REQUEST } from "../src/Refresher.js"
import * as StoreLocation from "../src/StoreLocation.js"
import { marking } from "../test/harness/spans.js"

const REFRESHES = Number(process.env["WINDOW_REFRESHES"] ?? 300)
const TARGET_P99_MS = 5
const RESULTS = fileURLToPath(new URL("../bench-results.json", import.meta.url))

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const main = async () => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-bench-window-"))
  const configDir = join(dir, ".claude")
  await mkdir(configDir, { mode: 0o700 })
  const location = StoreLocation.resolve({ HOME: dir, CLAUDE_CONFIG_DIR: configDir })
  const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 600_000, maxRequests: 100_000 })
  const now = () => Number(process.hrtime.bigint()) / 1e6
  const received: Array<number> = []
  const sent: Array<number> = []
  const windows: Array<number> = []
  const sentToRenamed: Array<number> = []
  let mark: { sent?: number; received?: number } = {}
  const document = () => {
    const live = sim.current()
    return {
      claudeAiOauth: {
        accessToken: live.accessToken,
        refreshToken: live.refreshToken,
        expiresAt: Date.now() - 60_000,
        scopes: [...live.scopes],
        subscriptionType: "max",
        rateLimitTier: "default_claude_max_20x"
      },
      mcpOAuth: { "linear|1": { serverName: "linear", accessToken: "mcp-token", expiresAt: 1 } }
    }
  }
  try {
    const once = Effect.gen(function* () {
      const opened = yield* ClaudeCredentials.open(location, { platform: "linux" })
      return yield* opened.refresher.refresh({ ifNeeded: true })
    }).pipe(
      marking((name, edge) => {
        const t = now()
        if (name === SPAN_REQUEST && edge === "start") mark = { sent: t }
        if (name === SPAN_REQUEST && edge === "end") mark.received = t
        if (name === SPAN_PERSIST && edge === "end" && mark.sent !== undefined && mark.received !== undefined) {
          windows.push(t - mark.received)
          sentToRenamed.push(t - mark.sent)
          sent.push(mark.sent)
          received.push(mark.received)
        }
      }),
      Effect.provide(Layer.effect(Backoff.Backoff, Backoff.make())),
      Effect.provide(OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: sim.url, oauthBaseUrl: sim.url })))),
      Effect.provide(NodeHttpClient.layerUndici)
    )
    const baseline: Array<number> = []
    for (let i = 0; i < REFRESHES; i++) {
      const text = JSON.stringify(document(), null, 2)
      await writeFile(location.file, text, { mode: 0o600 })
      const outcome = await Effect.runPromise(once)
      if (outcome._tag !== "Refreshed") throw new Error(`refresh ${i}: ${outcome._tag}`)
      // The baseline, interleaved: one durable atomic write of a document of the same size.
      const t = now()
      await AtomicFile.write(join(configDir, "baseline.json"), text)
      baseline.push(now() - t)
    }
    const sorted = (xs: Array<number>) => [...xs].sort((a, b) => a - b)
    const w = sorted(windows)
    const s = sorted(sentToRenamed)
    const b = sorted(baseline)
    const p99 = percentile(w, 99)
    const ok = p99 <= TARGET_P99_MS
    const row = (name: string, xs: ReadonlyArray<number>, target: string, isMet: string) => [
      name,
      percentile(xs, 50).toFixed(2),
      percentile(xs, 99).toFixed(2),
      ratio(percentile(xs, 50), percentile(b, 50)),
      target,
      isMet
    ]
    console.log(
      section(
        `Refresh: the window a SIGKILL can lose a login in (${w.length} refreshes on loopback)`,
        ["interval", "median ms", "p99 ms", "median × baseline", "target", "met?"],
        [
          row("response received → renamed (the window)", w, `p99 ≤ ${TARGET_P99_MS} ms (hard)`, met(ok, true)),
          row("request sent → renamed (incl. the round trip)", s, "informational", "—"),
          row("baseline: one durable atomic write of the same document", b, "baseline", "—")
        ],
        [
          "Before the request: both locks, the owner records, the store re-read, the merged document serialized with placeholders, the temp file created (0600, the original's owner), filled and fsync'd.",
          "Inside the window: the compare-and-swap read of the store, the final bytes, one fsync, the rename."
        ]
      )
    )
    await writeFile(
      RESULTS,
      JSON.stringify({ window: { refreshes: w.length, medianMs: percentile(w, 50), p99Ms: p99, sentToRenamedP99Ms: percentile(s, 99), baselineMedianMs: percentile(b, 50), met: ok } }, null, 2) + "\n"
    )
    if (!ok) process.exitCode = 1
  } finally {
    await sim.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
