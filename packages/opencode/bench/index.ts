// `pnpm --filter @tollgate/opencode bench`: what the plugin costs opencode.
//   1. Per-request overhead: AuthorizedFetch vs a plain `fetch` with the same
//      bearer + beta headers, against a loopback simulator, in alternating
//      blocks. Hard target: added median ≤ 0.2 ms (median of rounds).
//   2. Bundle import time under the Bun inside the real opencode binary and
//      bundle size, as ratios to opencode-anthropic-auth@0.0.13 measured in the
//      same run (targets: ≤ 2× its import median, ≤ 250 KB). Informational:
//      a missed target is reported, not an exit code.
// `-- --only=overhead` or `-- --only=load` runs one section.
// Prints tables, writes bench-results.json beside package.json, exits 1 when a
// hard target is missed (only the overhead one is hard) or a measurement fails.
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
    [
      "round",
      "direct median ms",
      "plugin median ms",
      "direct p90 ms",
      "plugin p90 ms",
      "added (b − a) ms",
      "added, paired blocks ms",
      "ratio (plugin/direct)"
    ],
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
  return {
    text,
    result: { rounds, wrapper, addedMedianMs: added, target: MAX_ADDED_MS, hard: ADDED_IS_HARD, met: ok },
    hard
  }
}

const bundleSection = async () => {
  const binary = findOpenCodeBinary()
  if (!binary) {
    return {
      text: "\n## Bundle import time under Bun\n\nskipped: no opencode binary (install opencode-ai or set OPENCODE_BIN)",
      result: null
    }
  }
  const dir = await mkdtemp(join(os.tmpdir(), "tollgate-opencode-bench-"))
  try {
    const r = await BundleLoad.run(binary, dir)
    const kb = (b: number) => (b / 1024).toFixed(1)
    const { anchor, tollgate, empty } = r.plain
    const importRatio = tollgate.medianMs / anchor.medianMs
    const importMet = importRatio <= BundleLoad.MAX_IMPORT_RATIO
    const sizeMet = r.size.tollgate.bytes <= BundleLoad.BUDGET_BYTES
    const anchorName = `${BundleLoad.ANCHOR}@${r.anchorVersion}`
    const timeRow = (name: string, s: BundleLoad.Side, base: BundleLoad.Side) => [
      name,
      ms(s.medianMs, 1),
      ms(s.p90Ms, 1),
      ratio(s.medianMs, base.medianMs),
      ratio(s.p90Ms, base.p90Ms),
      ms(s.processMedianMs, 1)
    ]
    const importText = section(
      `Import time under Bun ${r.bunVersion}: tollgate vs ${anchorName} (${r.runs} fresh processes per subject, same run)`,
      ["subject", "median ms", "p90 ms", "median ÷ anchor", "p90 ÷ anchor", "process wall median ms"],
      [
        timeRow("empty module (floor)", empty, anchor),
        timeRow(`${anchorName} (anchor)`, anchor, anchor),
        timeRow("tollgate-opencode.js", tollgate, anchor),
        timeRow("anchor, built-ins preloaded", r.warmBuiltins.anchor, r.warmBuiltins.anchor),
        timeRow("tollgate, built-ins preloaded", r.warmBuiltins.tollgate, r.warmBuiltins.anchor),
        timeRow("anchor, no transpiler cache", r.noTranspilerCache.anchor, r.noTranspilerCache.anchor),
        timeRow("tollgate, no transpiler cache", r.noTranspilerCache.tollgate, r.noTranspilerCache.anchor)
      ],
      [
        `target: import median ≤ ${BundleLoad.MAX_IMPORT_RATIO}× the anchor's (informational) — met? ${met(importMet, false)} (${importRatio.toFixed(2)}×)`,
        `command per sample: BUN_BE_BUN=1 ${r.binary} -e "t0 = performance.now(); await import(<file:// URL>); performance.now() - t0" in a fresh process with a throwaway HOME; subjects interleaved in rotating order after ${BundleLoad.defaultOptions.warmup} warm-up rounds`,
        `anchor entry as installed: ${r.anchorEntry}`,
        `Bun's transpiler cache (XDG_CACHE_HOME/bun, used for files over 50 KB) persists across the runs as it does for a user; the warm-up fills it`,
        `"built-ins preloaded": after importing ${r.builtins.join(", ")} (what the bundle imports) before the timer — inside opencode they are already loaded when it loads a plugin, so this is the closest to what opencode waits for; ratio to the preloaded anchor`,
        `"no transpiler cache": BUN_RUNTIME_TRANSPILER_CACHE_PATH=0, the first load after an install or upgrade; ratio to the anchor under the same setting`
      ]
    )
    const sizeRow = (name: string, s: BundleLoad.Sizes) => [
      name,
      String(s.bytes),
      kb(s.bytes),
      kb(s.gzipBytes),
      ratio(s.bytes, BundleLoad.BUDGET_BYTES)
    ]
    const sizeText = section(
      `Bundle size: budget ${kb(BundleLoad.BUDGET_BYTES)} KB`,
      ["file", "bytes", "KB", "gzip -9 KB", "÷ budget"],
      [
        sizeRow("tollgate-opencode.js + static chunks: what importing the plugin loads", r.size.tollgate),
        sizeRow("tollgate, everything shipped (lazy chunks: request path, logins, status)", r.size.tollgateTotal),
        sizeRow(`${anchorName} entry alone`, r.size.anchorEntry),
        sizeRow(`${anchorName} + its imports, esbuild minified`, r.size.anchorBundled)
      ],
      [
        `target: what importing the plugin loads ≤ ${kb(BundleLoad.BUDGET_BYTES)} KB = ${BundleLoad.BUDGET_BYTES} bytes (informational) — met? ${met(sizeMet, false)} (${ratio(r.size.tollgate.bytes, r.size.anchorBundled.bytes)}× the anchor bundled)`,
        `everything shipped ≤ ${kb(BundleLoad.BUDGET_BYTES)} KB — met? ${met(r.size.tollgateTotal.bytes <= BundleLoad.BUDGET_BYTES, false)}: the first request loads Effect's runtime (~200 KB minified) with the request path`
      ]
    )
    return {
      text: `${importText}\n${sizeText}`,
      result: {
        ...r,
        targets: {
          importRatio: { value: importRatio, max: BundleLoad.MAX_IMPORT_RATIO, met: importMet },
          bundleBytes: { value: r.size.tollgate.bytes, max: BundleLoad.BUDGET_BYTES, met: sizeMet },
          shippedBytes: {
            value: r.size.tollgateTotal.bytes,
            max: BundleLoad.BUDGET_BYTES,
            met: r.size.tollgateTotal.bytes <= BundleLoad.BUDGET_BYTES
          }
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const main = async (): Promise<number> => {
  const started = performance.now()
  console.log(
    `# tollgate opencode bench — node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()}/${os.arch()}`
  )
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length)
  const overhead = only === undefined || only === "overhead" ? await overheadSection() : undefined
  if (overhead) console.log(overhead.text)
  const load = only === undefined || only === "load" ? await bundleSection() : undefined
  if (load) console.log(load.text)

  const hard = [...(overhead?.hard ?? [])]
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
        overhead: overhead?.result ?? null,
        bundleLoad: load?.result ?? null,
        hardTargets: hard
      },
      null,
      2
    )}\n`
  )
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main()
