// What the release test measures: bytes on disk of an install, and a command's start-up against
// `node -e 0`, both run the same way (through `/bin/sh -c`, as Claude Code runs a statusLine command)
// and interleaved so that load on the shared machine hits both sides alike.
import { spawnSync } from "node:child_process"
import { lstat, readdir } from "node:fs/promises"
import { join } from "node:path"

/**
 * The size of everything under `dir`, symlinks not followed: `bytes` (apparent, the sum of file sizes,
 * what `du -sb` reports) and `allocated` (st_blocks × 512, what `du -s` reports), and the file count.
 */
export const diskUsage = async (dir) => {
  let bytes = 0
  let allocated = 0
  let files = 0
  const walk = async (path) => {
    const info = await lstat(path)
    bytes += info.size
    allocated += info.blocks * 512
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await walk(join(path, name))
    } else files += 1
  }
  await walk(dir)
  return { bytes, allocated, files }
}

/** `n` bytes as "1.23 MB" (decimal megabytes, the unit of the ≤ 5 MB target). */
export const mb = (n) => `${(n / 1e6).toFixed(2)} MB`

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const timeShell = (line, { env, cwd, input }) => {
  const started = process.hrtime.bigint()
  const result = spawnSync("/bin/sh", ["-c", line], {
    env,
    cwd,
    input,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 10_000
  })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) {
    throw new Error(
      `\`${line}\` exited ${result.status ?? result.signal} during timing: ${String(result.stderr).slice(0, 400)}`
    )
  }
  return ms
}

/**
 * Runs `line` and the baseline `node -e 0` (the same Node, through the same shell) alternately, `rounds`
 * times each after one warm-up of each; returns the medians and their ratio.
 */
export const interleavedStartup = ({ line, env, cwd, input, rounds = 15 }) => {
  const baselineLine = `${JSON.stringify(process.execPath)} -e 0`
  timeShell(baselineLine, { env, cwd, input: "" })
  timeShell(line, { env, cwd, input })
  const command = []
  const baseline = []
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither side always runs on a just-warmed cache.
    if (i % 2 === 0) {
      baseline.push(timeShell(baselineLine, { env, cwd, input: "" }))
      command.push(timeShell(line, { env, cwd, input }))
    } else {
      command.push(timeShell(line, { env, cwd, input }))
      baseline.push(timeShell(baselineLine, { env, cwd, input: "" }))
    }
  }
  const commandMs = median(command)
  const baselineMs = median(baseline)
  return { commandMs, baselineMs, ratio: commandMs / baselineMs, rounds }
}
