// `pnpm --filter @tollgate/opencode bench`: what the plugin costs opencode.
//   1. Per-request overhead: AuthorizedFetch vs a plain `fetch` with the same
//      bearer + beta headers, against a loopback simulator, in alternating
//      blocks. Hard target: added median ≤ 0.2 ms (median of rounds).
//   2. Bundle load time under the Bun inside the real opencode binary, vs an
//      empty module; bundle size raw and gzip. Informational.
// Prints tables, writes bench-results.json beside package.json, exits 1 when a
// hard target is missed.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import * as os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { findOpenCodeBinary } from "@tollgate/conformance/OpenCode"
import * as BundleLoad from "./bundleLoad.js"
import * as Overhead from "./overhead.js"
import { met, ratio, section } from "@tollgate/conformance/BenchTable"

const RESULTS = fileURLToPath(new URL("../bench-results.json", import.meta.url))
const ROUNDS = 3
const MAX_ADDED_MS = 0.2
// Met at 0.07–0.13 ms (≥ 35% under) in every round of repeated runs on a 2-core box (see the notes printed below), so it is gated.
const ADDED_IS_HARD = true

interface HardTarget {
  readonly name: string
  readonly met: boolean
  readonly detail: string
}

const ms = (n: number, digits = 3) => n.toFixed(digits)

const overheadSection = async () => {
  const rounds: Array<Overhead.Result> = []
  for (let i = 0; i < ROUNDS; i++) rounds.push(await Overhead.run())
  const wrapper = await Overhead.wrapperCost()
  const added = Overhead.median(rounds.map((r) => r.addedMedianMs))
  const ok = added <= MAX_ADDED_MS
  const text = section(
    `Plugin overhead per non-streaming POST /v1/messages (${ROUNDS} rounds × ${Overhead.defaultOptions.perSide} requests per side)`,
    ["round", "direct median ms", "plugin median ms", "direct p90 ms", "plugin p90 ms", "added (b − a) ms", "added, paired blocks ms", "ratio (plugin/direct)"],
    [
      ...rounds.map((r, i) => [
        String(i + 1),
        ms(r.directMedianMs),
        ms(r.pluginMedianMs),
        ms(r.directP90Ms),
        ms(r.pluginP90Ms),
        ms(r.addedMedianMs),
        ms(r.addedPairedMs),
        ratio(r.pluginMedianMs, r.directMedianMs)
      ]),
      [
        "median",
        ms(Overhead.median(rounds.map((r) => r.directMedianMs))),
        ms(Overhead.median(rounds.map((r) => r.pluginMedianMs))),
        "",
        "",
        ms(added),
        ms(Overhead.median(rounds.map((r) => r.addedPairedMs))),
        Overhead.median(rounds.map((r) => r.ratio)).toFixed(2)
      ]
    ],
    [
      `target: added median ≤ ${MAX_ADDED_MS} ms${ADDED_IS_HARD ? " (hard)" : " (informational)"} — met? ${met(ok, ADDED_IS_HARD)} (${ms(added)} ms, median of the rounds' b − a)`,
      "direct (a): plain fetch with the headers a direct client sends (content-type, anthropic-version, Bearer, anthropic-beta oauth, User-Agent); plugin (b): AuthorizedFetch.make with the simulator's OAuth login (fresh token, happy path) and the SDK's headers",
      `sequential requests, keep-alive, body read to the end; blocks of ${Overhead.defaultOptions.block} alternating A B / B A after ${Overhead.defaultOptions.warmup} warm-up requests per side; "paired blocks" is the median over block pairs of (block median b − block median a)`,
      `token endpoint calls during the rounds: ${rounds.map((r) => r.tokenCalls).join(", ")} (a fresh token is never refreshed)`,
      `plugin CPU alone (fetch stubbed to answer at once, ${wrapper.callsPerSide} calls per side): direct ${wrapper.directUs.toFixed(1)} µs, plugin ${wrapper.pluginUs.toFixed(1)} µs, added ${wrapper.addedUs.toFixed(1)} µs per call; the remaining ~${Math.max(0, added * 1000 - wrapper.addedUs).toFixed(0)} µs of the wire difference is outside the plugin's own CPU (likely the extra async hops of the Effect-run refresh check per request; not profiled further)`
    ]
  )
  const hard: Array<HardTarget> = ADDED_IS_HARD
    ? [{ name: `overhead: added median ≤ ${MAX_ADDED_MS} ms`, met: ok, detail: `${ms(added)} ms` }]
    : []
  return { text, result: { rounds, wrapper, addedMedianMs: added, target: MAX_ADDED_MS, hard: ADDED_IS_HARD, met: ok }, hard }
}

const bundleSection = async () => {
  const binary = findOpenCodeBinary()
  if (!binary) {
    return { text: "\n## Bundle load time under Bun\n\nskipped: no opencode binary (install opencode-ai or set OPENCODE_BIN)", result: null }
  }
  const dir = await mkdtemp(join(os.tmpdir(), "tollgate-opencode-bench-"))
  try {
    const r = await BundleLoad.run(binary, dir)
    const kb = (b: number) => (b / 1024).toFixed(1)
    const text = section(
      `Bundle load time under Bun ${r.bunVersion} (informational, ${r.runs} runs per side)`,
      ["subject", "median ms", "p90 ms", "difference ms", "ratio (× empty)"],
      [
        ["empty module", ms(r.empty.medianMs, 1), ms(r.empty.p90Ms, 1), "—", "1.00"],
        ["tollgate-opencode.js", ms(r.bundle.medianMs, 1), ms(r.bundle.p90Ms, 1), ms(r.differenceMs, 1), ratio(r.bundle.medianMs, r.empty.medianMs)]
      ],
      [
        `bundle: ${kb(r.bundleBytes)} KB raw, ${kb(r.bundleGzipBytes)} KB gzip -9 (esbuild via build.mjs bundle(), unminified)`,
        `command: BUN_BE_BUN=1 ${r.binary} -e "await import(<file:// URL>)", whole process wall time, throwaway HOME, runs interleaved after ${BundleLoad.defaultOptions.warmup} warm-up runs`
      ]
    )
    return { text, result: r }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const main = async (): Promise<number> => {
  const started = performance.now()
  console.log(`# tollgate opencode bench — node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()}/${os.arch()}`)
  const overhead = await overheadSection()
  console.log(overhead.text)
  const load = await bundleSection()
  console.log(load.text)

  const hard = [...overhead.hard]
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
        overhead: overhead.result,
        bundleLoad: load.result,
        hardTargets: hard
      },
      null,
      2
    )}\n`
  )
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main()
