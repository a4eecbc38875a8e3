// Bundle load time under Bun: `bun -e "await import(<bundle>)"` with the Bun
// inside the real opencode binary (BUN_BE_BUN=1), interleaved run by run with
// the same command importing an empty module — the floor any plugin pays.
import { spawn } from "node:child_process"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { gzipSync } from "node:zlib"
import { bundle } from "../build.mjs"
import { median, quantile } from "./overhead.js"

export interface Options {
  readonly runs: number
  readonly warmup: number
}

export const defaultOptions: Options = { runs: 30, warmup: 3 }

export interface Side {
  readonly medianMs: number
  readonly p90Ms: number
  readonly samplesMs: ReadonlyArray<number>
}

export interface Result {
  readonly binary: string
  readonly bunVersion: string
  readonly runs: number
  readonly bundleBytes: number
  readonly bundleGzipBytes: number
  readonly empty: Side
  readonly bundle: Side
  readonly differenceMs: number
  readonly ratio: number
}

const runOnce = (binary: string, home: string, code: string): Promise<{ ms: number; stdout: string }> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(binary, ["-e", code], {
      // A throwaway HOME: nothing the import might touch is the real one.
      env: { PATH: process.env["PATH"] ?? "", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), BUN_BE_BUN: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => {
      const ms = performance.now() - t0
      if (code !== 0) reject(new Error(`bun -e exited ${code}: ${stderr.slice(0, 500)}`))
      else resolve({ ms, stdout })
    })
  })

export const run = async (binary: string, dir: string, options: Options = defaultOptions): Promise<Result> => {
  const outfile = join(dir, "tollgate-opencode.js")
  const emptyfile = join(dir, "empty.mjs")
  await bundle(outfile)
  await writeFile(emptyfile, "export {}\n")
  const raw = await readFile(outfile)
  // Both import a module and print its export count, so a broken bundle fails loudly instead of timing fast.
  const code = (file: string) => `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(Bun.version, Object.keys(m).length)`
  const subjects = { empty: code(emptyfile), bundle: code(outfile) }
  const probe = await runOnce(binary, dir, subjects.bundle)
  const [bunVersion, exports] = probe.stdout.trim().split(" ")
  if (!exports || Number(exports) === 0) throw new Error(`bundle imported with no exports: ${probe.stdout}`)
  const samples = { empty: [] as Array<number>, bundle: [] as Array<number> }
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const order = i % 2 === 0 ? (["empty", "bundle"] as const) : (["bundle", "empty"] as const)
    for (const side of order) {
      const { ms } = await runOnce(binary, dir, subjects[side])
      if (i >= options.warmup) samples[side].push(ms)
    }
  }
  const side = (xs: Array<number>): Side => ({ medianMs: median(xs), p90Ms: quantile(xs, 0.9), samplesMs: xs })
  const empty = side(samples.empty)
  const loaded = side(samples.bundle)
  return {
    binary,
    bunVersion: bunVersion ?? "?",
    runs: options.runs,
    bundleBytes: raw.length,
    bundleGzipBytes: gzipSync(raw, { level: 9 }).length,
    empty,
    bundle: loaded,
    differenceMs: loaded.medianMs - empty.medianMs,
    ratio: loaded.medianMs / empty.medianMs
  }
}
