// `pnpm bench` for claude-credentials: the window a SIGKILL can still lose a
// login in. A refresh prepares its write before it spends the refresh token
// (temp file created, filled and synced, owner taken); from the moment the
// tokens are in hand to the rename that stores them, only a stat standing in
// for the compare-and-swap read, the final bytes, one fdatasync and the rename
// remain, done synchronously.
//
// Measured against the simulator on loopback, with a real file store, from
// the end of Refresher.SPAN_REQUEST (tokens in hand) to the end of
// Refresher.SPAN_PERSIST (renamed):
// - warm: many refreshes in one process, once on the machine's temp dir and
//   once on a RAM-backed tmpfs (/dev/shm) where there is one — the second is
//   tollgate's own share, without the device's sync latency;
// - cold: a fresh process per refresh (the test harness: the library as a
//   runtime embeds it), as `tollgate refresh` runs.
// Next to a baseline measured in the same run on the same file system: one
// durable atomic write of the same document (AtomicFile.write). Hard target
// (the reliability issue): p99 ≤ 5 ms on loopback, judged on tollgate's own
// share (the tmpfs row; the temp-dir row when there is no tmpfs). Exits 1
// when it fails.
import { existsSync } from "node:fs"
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
import { makeWorkspace, spawnNode } from "../test/harness/bundle.js"
import { marking } from "../test/harness/spans.js"

const REFRESHES = Number(process.env["WINDOW_REFRESHES"] ?? 300)
const COLD_PROCESSES = Number(process.env["WINDOW_COLD_PROCESSES"] ?? 60)
const TARGET_P99_MS = 5
const RAM_DIR = "/dev/shm"
const RESULTS = fileURLToPath(new URL("../bench-results.json", import.meta.url))

const now = () => Number(process.hrtime.bigint()) / 1e6
const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)
const percentile = (xs: ReadonlyArray<number>, p: number) =>
  xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!

interface Samples {
  /** Tokens in hand → renamed. */
  readonly window: Array<number>
  /** Request sent → renamed. */
  readonly sent: Array<number>
  /** Response headers received → renamed (cold only). */
  readonly headers: Array<number>
  /** One durable atomic write of the same document, same file system. */
  readonly baseline: Array<number>
}

const samples = (): Samples => ({ window: [], sent: [], headers: [], baseline: [] })

/** A store directory under `base` and a document holding the simulator's live tokens, already expired. */
const storeIn = async (base: string, sim: Simulator.Simulator) => {
  const dir = await mkdtemp(join(base, "tollgate-bench-window-"))
  const configDir = join(dir, ".claude")
  await mkdir(configDir, { mode: 0o700 })
  const location = StoreLocation.resolve({ HOME: dir, CLAUDE_CONFIG_DIR: configDir })
  const document = () => {
    const live = sim.current()
    const login = {
      accessToken: live.accessToken,
      refreshToken: live.refreshToken,
      expiresAt: Date.now() - 60_000,
      scopes: [...live.scopes],
      subscriptionType: "max",
      rateLimitTier: "default_claude_max_20x"
    }
    return JSON.stringify(
      {
        claudeAiOauth: login,
        mcpOAuth: { "linear|1": { serverName: "linear", accessToken: "mcp-token", expiresAt: 1 } }
      },
      null,
      2
    )
  }
  const baseline = async (into: Samples, text: string) => {
    const t = now()
    await AtomicFile.write(join(configDir, "baseline.json"), text)
    into.baseline.push(now() - t)
  }
  return { dir, configDir, location, document, baseline, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

const warm = async (base: string, sim: Simulator.Simulator): Promise<Samples> => {
  const store = await storeIn(base, sim)
  const out = samples()
  let mark: { sent?: number; received?: number } = {}
  const once = Effect.gen(function* () {
    const opened = yield* ClaudeCredentials.open(store.location, { platform: "linux" })
    return yield* opened.refresher.refresh({ ifNeeded: true })
  }).pipe(
    marking((name, edge) => {
      const t = now()
      if (name === SPAN_REQUEST && edge === "start") mark = { sent: t }
      if (name === SPAN_REQUEST && edge === "end") mark.received = t
      if (name === SPAN_PERSIST && edge === "end" && mark.sent !== undefined && mark.received !== undefined) {
        out.window.push(t - mark.received)
        out.sent.push(t - mark.sent)
      }
    }),
    Effect.provide(Layer.effect(Backoff.Backoff, Backoff.make())),
    Effect.provide(
      OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: sim.url, oauthBaseUrl: sim.url })))
    ),
    Effect.provide(NodeHttpClient.layerUndici)
  )
  try {
    for (let i = 0; i < REFRESHES; i++) {
      const text = store.document()
      await writeFile(store.location.file, text, { mode: 0o600 })
      const outcome = await Effect.runPromise(once)
      if (outcome._tag !== "Refreshed") throw new Error(`refresh ${i}: ${outcome._tag}`)
      await store.baseline(out, text)
    }
    return out
  } finally {
    await store.cleanup()
  }
}

const cold = async (base: string, sim: Simulator.Simulator): Promise<Samples> => {
  const store = await storeIn(base, sim)
  const workspace = await makeWorkspace("tollgate-bench-window-cold-")
  const out = samples()
  const env = { HOME: store.dir, CLAUDE_CONFIG_DIR: store.configDir, PATH: process.env["PATH"] ?? "" }
  try {
    for (let i = 0; i < COLD_PROCESSES; i++) {
      const text = store.document()
      await writeFile(store.location.file, text, { mode: 0o600 })
      const ended = await spawnNode(workspace.harness, ["refresh", sim.url, "-"], env).ended
      const lines = ended.stdout.split("\n").filter((l) => l.startsWith("MARK "))
      const at = (mark: string) => {
        const line = lines.find((l) => l.slice(5, l.lastIndexOf(" ")) === mark)
        if (line === undefined) throw new Error(`cold refresh ${i}: no ${mark} mark (${ended.stderr.trim()})`)
        return Number(BigInt(line.slice(line.lastIndexOf(" ") + 1))) / 1e6
      }
      const renamed = at(`${SPAN_PERSIST}:end`)
      out.window.push(renamed - at(`${SPAN_REQUEST}:end`))
      out.headers.push(renamed - at("http.client POST:end"))
      out.sent.push(renamed - at(`${SPAN_REQUEST}:start`))
      await store.baseline(out, text)
    }
    return out
  } finally {
    await workspace.cleanup()
    await store.cleanup()
  }
}

const main = async () => {
  const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 900_000, maxRequests: 100_000 })
  try {
    const disk = await warm(tmpdir(), sim)
    const ram = existsSync(RAM_DIR) ? await warm(RAM_DIR, sim) : null
    const fresh = await cold(tmpdir(), sim)
    const judged = ram ?? disk
    const p99 = percentile(sorted(judged.window), 99)
    const ok = p99 <= TARGET_P99_MS
    const rows: Array<Array<string>> = []
    const row = (
      name: string,
      xs: ReadonlyArray<number>,
      baseline: ReadonlyArray<number>,
      target: string,
      isMet: string
    ) => {
      const s = sorted(xs)
      rows.push([
        name,
        percentile(s, 50).toFixed(2),
        percentile(s, 99).toFixed(2),
        ratio(percentile(s, 50), percentile(sorted(baseline), 50)),
        target,
        isMet
      ])
    }
    const hard = `p99 ≤ ${TARGET_P99_MS} ms (hard)`
    row(
      `warm, temp dir (${tmpdir()}): tokens in hand → renamed`,
      disk.window,
      disk.baseline,
      ram ? "informational" : hard,
      ram ? "—" : met(ok, true)
    )
    if (ram) row(`warm, tmpfs (${RAM_DIR}): tokens in hand → renamed`, ram.window, ram.baseline, hard, met(ok, true))
    row("warm, temp dir: request sent → renamed (incl. the round trip)", disk.sent, disk.baseline, "informational", "—")
    row(
      `cold, ${COLD_PROCESSES} fresh processes: tokens in hand → renamed`,
      fresh.window,
      fresh.baseline,
      "informational",
      "—"
    )
    row(
      "cold: response headers received → renamed (body read, decoded)",
      fresh.headers,
      fresh.baseline,
      "informational",
      "—"
    )
    row("cold: request sent → renamed", fresh.sent, fresh.baseline, "informational", "—")
    row(
      "baseline: one durable atomic write of the same document, temp dir",
      disk.baseline,
      disk.baseline,
      "baseline",
      "—"
    )
    if (ram) row("baseline: the same on tmpfs", ram.baseline, ram.baseline, "baseline", "—")
    console.log(
      section(
        `Refresh: the window a SIGKILL can lose a login in (${REFRESHES} refreshes per warm row, on loopback)`,
        ["interval", "median ms", "p99 ms", "median × its baseline", "target", "met?"],
        rows,
        [
          "Before the request: both locks, the owner records, the store re-read and stamped, the merged document serialized with placeholders, the temp file created (0600, the original's owner), filled and synced; the answer's handling compiled (OAuthClient.rehearseRefresh).",
          "Inside the window: one stat standing in for the compare-and-swap read (the store unchanged since the preparation), the final bytes written in place, one fdatasync, the rename — synchronously, with no yield to other fibers.",
          "The tmpfs row is tollgate's own share; the temp-dir row adds the device's fdatasync latency (compare its baseline).",
          "Cold rows: a fresh process per refresh; reading and decoding the first answer runs code not yet compiled, between 'headers received' and 'tokens in hand'."
        ]
      )
    )
    const summary = (s: Samples) => ({
      medianMs: percentile(sorted(s.window), 50),
      p99Ms: percentile(sorted(s.window), 99),
      baselineMedianMs: percentile(sorted(s.baseline), 50)
    })
    await writeFile(
      RESULTS,
      `${JSON.stringify({ window: { warmTempDir: summary(disk), warmTmpfs: ram ? summary(ram) : null, cold: summary(fresh), targetP99Ms: TARGET_P99_MS, met: ok } }, null, 2)}\n`
    )
    if (!ok) process.exitCode = 1
  } finally {
    await sim.close()
  }
}

await main()
