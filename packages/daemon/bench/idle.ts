// `pnpm --filter @tollgate/daemon bench` (second part): what an idle daemon
// costs. Starts the real `tollgate daemon run` in a throwaway HOME, lets one
// client ask, then watches the process while nobody asks: resident memory, CPU
// ticks and main-thread wake-ups (context switches) over the idle window. The
// issue's window is three minutes; IDLE_MS (default 20 s) sets ours.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { connect } from "node:net"
import * as os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Paths from "../src/Paths.js"

const IDLE_MS = Number(process.env["IDLE_MS"] ?? 20_000)
// The built CLI, as a user runs it: tsx alone wakes a process several times a second.
const BUILD = fileURLToPath(new URL("../../../apps/cli/build.mjs", import.meta.url))
const CLI = fileURLToPath(new URL("../../../apps/cli/dist/tollgate.js", import.meta.url))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Sample {
  readonly rssKb: number
  readonly ticks: number
  readonly wakeups: number
}

const sample = (pid: number): Sample => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN)
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return {
    rssKb: field("VmRSS"),
    ticks: Number(fields[11]) + Number(fields[12]),
    wakeups: field("voluntary_ctxt_switches") + field("nonvoluntary_ctxt_switches")
  }
}

const ask = (socket: string) =>
  new Promise<string>((resolve, reject) => {
    const client = connect(socket)
    let reply = ""
    client.on("connect", () => client.write(JSON.stringify({ v: 1, op: "status" }) + "\n"))
    client.on("data", (chunk) => (reply += chunk.toString()))
    client.on("end", () => resolve(reply))
    client.on("error", reject)
  })

const main = async (): Promise<number> => {
  if (process.platform !== "linux") {
    console.log("idle daemon bench: needs /proc (Linux); skipped")
    return 0
  }
  const root = await mkdtemp(join(os.tmpdir(), "tollgate-idle-"))
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: join(root, "home"),
    XDG_STATE_HOME: join(root, "state"),
    XDG_RUNTIME_DIR: join(root, "run"),
    XDG_CONFIG_HOME: join(root, "config"),
    TMPDIR: join(root, "tmp"),
    TOLLGATE_API_BASE_URL: "http://127.0.0.1:9",
    TOLLGATE_OAUTH_BASE_URL: "http://127.0.0.1:9"
  }
  for (const dir of ["home", "state", "run", "config", "tmp"]) await mkdir(join(root, dir), { recursive: true, mode: 0o700 })
  const paths = Paths.resolve(env)
  await new Promise((resolve, reject) =>
    spawn(process.execPath, [BUILD], { stdio: "inherit" }).once("exit", (code) => (code === 0 ? resolve(null) : reject(new Error("CLI build failed"))))
  )
  const daemon = spawn(process.execPath, [CLI, "daemon", "run"], { env, stdio: ["ignore", "ignore", "pipe"] })
  try {
    for (let i = 0; i < 200; i++) {
      try {
        await ask(paths.socket)
        break
      } catch {
        await sleep(100)
      }
    }
    await ask(paths.socket)
    await sleep(2_000)
    const before = sample(daemon.pid!)
    await sleep(IDLE_MS)
    const after = sample(daemon.pid!)
    const wakeups = after.wakeups - before.wakeups
    console.log(`\n## Idle daemon (tollgate daemon run, after one client asked, ${Math.round(IDLE_MS / 1000)} s with nobody asking)\n`)
    console.log("| resident memory | CPU ticks used | main-thread wake-ups | target: no wake-ups | met? |")
    console.log("|---|---|---|---|---|")
    console.log(`| ${(after.rssKb / 1024).toFixed(1)} MiB | ${after.ticks - before.ticks} | ${wakeups} | 0 (informational) | ${wakeups === 0 ? "yes" : "no"} |`)
    console.log("\n- the built CLI (apps/cli/dist), no login in the store, usage endpoint unreachable")
    return 0
  } finally {
    daemon.kill("SIGTERM")
    await new Promise((resolve) => daemon.once("exit", resolve))
    await rm(root, { recursive: true, force: true })
  }
}

process.exitCode = await main()
