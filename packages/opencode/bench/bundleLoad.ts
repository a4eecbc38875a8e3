// Bundle import time under Bun and bundle size, as ratios to an anchor measured
// in the same run: `opencode-anthropic-auth@0.0.13`, the plugin most opencode
// users run, imported from its entry as installed (dev dependency, resolved
// through node_modules like any installed plugin).
//
// Import time: N fresh processes per subject of the Bun inside the real opencode
// binary (BUN_BE_BUN=1; opencode runs plugins under that Bun), each timing one
// `await import(<file:// URL>)` with performance.now() inside the process — the
// time opencode waits for the plugin module, without Bun's own start-up. Runs
// are interleaved (rotating order) so load on a shared machine hits every
// subject alike; an empty module gives the floor. Bun caches its transpilation
// of files over 50 KB under XDG_CACHE_HOME/bun, as it does for a user; the
// warm-up rounds fill it. Two informational variants, each for both modules:
// the Node built-ins the bundle uses imported before the timer starts (inside
// opencode they are loaded long before any plugin: measured 0.01–0.03 ms each
// from a probe plugin), and the transpiler cache off (the first load after an
// install or upgrade).
import { readFile, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { gzipSync } from "node:zlib"
import { build } from "esbuild"
import { bundle } from "../build.mjs"
import { collectOutput, throwawayHomeEnv } from "../test/support/throwawayHome.js"
import { median, quantile } from "./overhead.js"

export interface Options {
  readonly runs: number
  readonly warmup: number
}

export const defaultOptions: Options = { runs: 30, warmup: 3 }

/** The size budget of the plugin bundle (issue 12). */
export const BUDGET_BYTES = 250 * 1024
/** The import-time target: at most this many times the anchor's median. */
export const MAX_IMPORT_RATIO = 2

export const ANCHOR = "opencode-anthropic-auth"

export interface Side {
  readonly medianMs: number
  readonly p90Ms: number
  /** Whole-process wall time (spawn to exit), for reference. */
  readonly processMedianMs: number
  readonly samplesMs: ReadonlyArray<number>
}

export interface Sizes {
  readonly bytes: number
  readonly gzipBytes: number
}

export interface Result {
  readonly binary: string
  readonly bunVersion: string
  readonly runs: number
  readonly anchorVersion: string
  readonly anchorEntry: string
  readonly builtins: ReadonlyArray<string>
  readonly plain: { readonly empty: Side; readonly anchor: Side; readonly tollgate: Side }
  readonly warmBuiltins: { readonly anchor: Side; readonly tollgate: Side }
  readonly noTranspilerCache: { readonly anchor: Side; readonly tollgate: Side }
  readonly size: {
    /** What importing the plugin loads: the entry and the chunks it imports statically. */
    readonly tollgate: Sizes
    /** Everything shipped: the entry and every chunk, the lazily loaded request path included. */
    readonly tollgateTotal: Sizes
    /** The anchor's entry file alone. */
    readonly anchorEntry: Sizes
    /** The anchor's entry with everything it imports, bundled and minified by esbuild (what it really loads). */
    readonly anchorBundled: Sizes
  }
}

const sizes = (raw: Uint8Array): Sizes => ({ bytes: raw.length, gzipBytes: gzipSync(raw, { level: 9 }).length })

interface Sample {
  readonly importMs: number
  readonly processMs: number
  readonly exports: ReadonlyArray<string>
  readonly bun: string
}

interface Subject {
  readonly code: string
  readonly env?: Record<string, string>
}

const runOnce = async (binary: string, home: string, { code, env = {} }: Subject): Promise<Sample> => {
  const t0 = performance.now()
  // A throwaway HOME: nothing the import might touch is the real one.
  const { stdout, stderr, exit } = await collectOutput(binary, ["-e", code], {
    ...throwawayHomeEnv(home),
    BUN_BE_BUN: "1",
    ...env
  })
  const processMs = performance.now() - t0
  if (exit !== 0) throw new Error(`bun -e exited ${exit}: ${stderr.slice(0, 500)}`)
  const line = stdout.trim().split("\n").pop() ?? ""
  try {
    const parsed = JSON.parse(line) as { ms: number; exports: Array<string>; bun: string }
    return { importMs: parsed.ms, processMs, exports: parsed.exports, bun: parsed.bun }
  } catch {
    throw new Error(`bun -e printed no measurement: ${stdout.slice(0, 300)} ${stderr.slice(0, 300)}`)
  }
}

/** The `-e` script: optionally load `preload` built-ins, then time one import of `file`. */
const script = (file: string, preload: ReadonlyArray<string> = [], env?: Record<string, string>): Subject => ({
  ...(env ? { env } : {}),
  code: [
    ...preload.map((b) => `await import(${JSON.stringify(b)});`),
    "const t0 = performance.now();",
    `const m = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    "const ms = performance.now() - t0;",
    "console.log(JSON.stringify({ ms, exports: Object.keys(m), bun: Bun.version }));"
  ].join("\n")
})

/** The `node:` modules a built ES module imports (esbuild keeps them as imports). */
const builtinImports = (source: string): Array<string> =>
  [...new Set([...source.matchAll(/from\s*["'](node:[\w/]+)["']/g)].map((m) => m[1]!))].sort()

const side = (samples: ReadonlyArray<Sample>): Side => ({
  medianMs: median(samples.map((s) => s.importMs)),
  p90Ms: quantile(
    samples.map((s) => s.importMs),
    0.9
  ),
  processMedianMs: median(samples.map((s) => s.processMs)),
  samplesMs: samples.map((s) => s.importMs)
})

/** Interleaved runs of every subject, rotating the order each round. */
const measure = async <K extends string>(
  binary: string,
  home: string,
  subjects: Record<K, Subject>,
  options: Options
): Promise<Record<K, Array<Sample>>> => {
  const keys = Object.keys(subjects) as Array<K>
  const samples = Object.fromEntries(keys.map((k) => [k, [] as Array<Sample>])) as Record<K, Array<Sample>>
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const order = keys.map((_, j) => keys[(i + j) % keys.length]!)
    for (const k of order) {
      const s = await runOnce(binary, home, subjects[k])
      if (i >= options.warmup) samples[k].push(s)
    }
  }
  return samples
}

export const run = async (binary: string, dir: string, options: Options = defaultOptions): Promise<Result> => {
  const outfile = join(dir, "tollgate-opencode.js")
  const emptyfile = join(dir, "empty.mjs")
  const { metafile } = await bundle(outfile)
  await writeFile(emptyfile, "export default {}\n")
  const require = createRequire(import.meta.url)
  const anchorManifest = require.resolve(`${ANCHOR}/package.json`)
  const anchorPkg = JSON.parse(await readFile(anchorManifest, "utf8")) as { version: string; main: string }
  const anchorEntry = join(anchorManifest, "..", anchorPkg.main)

  const raw = await readFile(outfile)
  // The outputs importing the entry loads (static imports, transitively) and all of them, as bytes on disk.
  const outputs = metafile.outputs
  const entryKey = Object.keys(outputs).find((o) => resolve(o) === resolve(outfile))!
  const atLoad = new Set<string>()
  const visit = (key: string) => {
    if (atLoad.has(key)) return
    atLoad.add(key)
    for (const i of outputs[key]!.imports) if (!i.external && i.kind === "import-statement") visit(i.path)
  }
  visit(entryKey)
  const concat = async (keys: Iterable<string>) =>
    Buffer.concat(await Promise.all([...keys].map((k) => readFile(resolve(k)))))
  const builtins = builtinImports(raw.toString("utf8"))
  // Both must import and export something, so a broken module fails loudly instead of timing fast.
  const home = dir
  for (const [name, file, expected] of [
    ["tollgate", outfile, ["default"]],
    [ANCHOR, anchorEntry, null]
  ] as const) {
    const probe = await runOnce(binary, home, script(file))
    if (probe.exports.length === 0) throw new Error(`${name} imported with no exports`)
    if (expected && probe.exports.join() !== expected.join()) throw new Error(`${name} exports ${probe.exports.join()}`)
  }
  const bunVersion = (await runOnce(binary, home, script(emptyfile))).bun

  const noCache = { BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" }
  const m = await measure(
    binary,
    home,
    {
      empty: script(emptyfile),
      anchor: script(anchorEntry),
      tollgate: script(outfile),
      anchorPreloaded: script(anchorEntry, builtins),
      tollgatePreloaded: script(outfile, builtins),
      anchorNoCache: script(anchorEntry, [], noCache),
      tollgateNoCache: script(outfile, [], noCache)
    },
    options
  )

  const anchorBundle = await build({
    entryPoints: [anchorEntry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "node",
    logLevel: "silent"
  })
  return {
    binary,
    bunVersion,
    runs: options.runs,
    anchorVersion: anchorPkg.version,
    anchorEntry,
    builtins,
    plain: { empty: side(m.empty), anchor: side(m.anchor), tollgate: side(m.tollgate) },
    warmBuiltins: { anchor: side(m.anchorPreloaded), tollgate: side(m.tollgatePreloaded) },
    noTranspilerCache: { anchor: side(m.anchorNoCache), tollgate: side(m.tollgateNoCache) },
    size: {
      tollgate: sizes(await concat(atLoad)),
      tollgateTotal: sizes(await concat(Object.keys(outputs))),
      anchorEntry: sizes(await readFile(anchorEntry)),
      anchorBundled: sizes(anchorBundle.outputFiles[0]!.contents)
    }
  }
}
