// `pnpm --filter @tollgate/daemon bench` (second part): what an idle daemon
// costs. Starts the real `tollgate daemon run` (the built CLI, as a user runs
// it: tsx alone wakes a process several times a second) in a throwaway HOME
// with a real login against the loopback simulator, lets clients ask (so the
// daemon really polls the usage endpoint and holds a keep-alive connection),
// then watches the process through /proc while nobody asks.
//
// The target: no wake-ups once no client has asked for 3 minutes. So
// the watched window starts IDLE_SETTLE_MS (default 180 s) after the last ask
// and lasts IDLE_MS (default 60 s). What happens before it — V8's memory
// reducer runs a couple of GCs in the first ~20 s after activity, the
// keep-alive socket closes — is reported, not judged.
//
// A "wake-up" is a context switch of the thread: a thread blocked in
// epoll/futex that never returns from it has none. The main thread (the event
// loop) is the hard target; every other thread (V8's GC and compiler helpers,
// libuv's pool) is reported beside it and judged too: the whole process must
// sleep.
import { readdirSync, readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { connect } from "node:net"
import { join } from "node:path"
import * as BenchTable from "@tollgate/conformance/BenchTable"
import { makeTempHome } from "@tollgate/conformance/ClaudeCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import * as Paths from "../src/Paths.js"
import { buildCli, startDaemon } from "./cli.js"

const SETTLE_MS = Number(process.env["IDLE_SETTLE_MS"] ?? 180_000)
const WINDOW_MS = Number(process.env["IDLE_MS"] ?? 60_000)
const ASKS = 5
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface ThreadSample {
  readonly name: string
  readonly switches: number
  readonly ticks: number
}

/** Per thread: name, context switches (voluntary + involuntary), CPU ticks (user + system). */
const sampleThreads = (pid: number): Map<number, ThreadSample> => {
  const threads = new Map<number, ThreadSample>()
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8")
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN)
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      threads.set(tid, {
        name: readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim(),
        switches: field("voluntary_ctxt_switches") + field("nonvoluntary_ctxt_switches"),
        ticks: Number(fields[11]) + Number(fields[12])
      })
    } catch {
      // the thread ended between readdir and read: it has nothing left to count
    }
  }
  return threads
}

const rssKb = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN)

interface Delta {
  readonly main: { switches: number; ticks: number }
  readonly others: { switches: number; ticks: number; threads: number; busiest: string }
}

const delta = (pid: number, before: Map<number, ThreadSample>, after: Map<number, ThreadSample>): Delta => {
  const of = (tid: number) => {
    const a = after.get(tid)!
    const b = before.get(tid) ?? { name: a.name, switches: 0, ticks: 0 }
    return { name: a.name, switches: a.switches - b.switches, ticks: a.ticks - b.ticks }
  }
  const main = of(pid)
  const others = [...after.keys()].filter((tid) => tid !== pid).map(of)
  const busiest = others.filter((t) => t.switches > 0).sort((x, y) => y.switches - x.switches)
  return {
    main: { switches: main.switches, ticks: main.ticks },
    others: {
      switches: others.reduce((n, t) => n + t.switches, 0),
      ticks: others.reduce((n, t) => n + t.ticks, 0),
      threads: others.length,
      busiest:
        busiest
          .slice(0, 3)
          .map((t) => `${t.name} ${t.switches}`)
          .join(", ") || "—"
    }
  }
}

const ask = (socket: string) =>
  new Promise<string>((resolve, reject) => {
    const client = connect(socket)
    let reply = ""
    client.on("connect", () => client.write(`${JSON.stringify({ v: 1, op: "status" })}\n`))
    client.on("data", (chunk) => (reply += chunk.toString()))
    client.on("end", () => resolve(reply))
    client.on("error", reject)
  })

const main = async (): Promise<number> => {
  if (process.platform !== "linux") {
    console.log("idle daemon bench: needs /proc (Linux); skipped")
    return 0
  }
  const sim = await Simulator.start({ scenario: "happy-path", ttlMs: SETTLE_MS + WINDOW_MS + 120_000 })
  const home = await makeTempHome("tollgate-idle-")
  await writeFile(
    join(home.claudeDir, ".credentials.json"),
    JSON.stringify({
      claudeAiOauth: {
        accessToken: sim.account.accessToken,
        refreshToken: sim.account.refreshToken,
        expiresAt: sim.account.expiresAt,
        scopes: [...sim.account.scopes],
        subscriptionType: sim.account.subscriptionType,
        rateLimitTier: sim.account.rateLimitTier
      }
    }),
    { mode: 0o600 }
  )
  const env = { ...home.env, ...sim.env }
  const paths = Paths.resolve(env)
  await buildCli()
  const daemon = await startDaemon(env)
  const pid = daemon.pid!
  try {
    let reply = ""
    for (let i = 0; i < ASKS; i++) reply = await ask(paths.socket)
    const usageCalls = sim.count("usage")
    const answered = /"windows":\{"/.test(reply)
    const started = Date.now()
    const atAsk = sampleThreads(pid)
    await sleep(SETTLE_MS)
    const atSettle = sampleThreads(pid)
    const rssSettled = rssKb(pid)
    await sleep(WINDOW_MS)
    const atEnd = sampleThreads(pid)
    const rssEnd = rssKb(pid)
    const settling = delta(pid, atAsk, atSettle)
    const idle = delta(pid, atSettle, atEnd)
    const quiet = idle.main.switches === 0 && idle.others.switches === 0 && idle.main.ticks + idle.others.ticks === 0
    const s = (ms: number) => `${Math.round(ms / 1000)} s`
    console.log(
      BenchTable.section(
        `Idle daemon (tollgate daemon run, logged in; ${ASKS} asks, then nobody)`,
        [
          "window",
          "main-thread wake-ups",
          "main CPU ticks",
          "other threads' wake-ups",
          "other CPU ticks",
          "busiest other threads",
          "RSS at end",
          "target",
          "met?"
        ],
        [
          [
            `first ${s(SETTLE_MS)} after the last ask`,
            settling.main.switches,
            settling.main.ticks,
            settling.others.switches,
            settling.others.ticks,
            settling.others.busiest,
            `${(rssSettled / 1024).toFixed(1)} MiB`,
            "— (reported)",
            "—"
          ],
          [
            `next ${s(WINDOW_MS)}`,
            idle.main.switches,
            idle.main.ticks,
            idle.others.switches,
            idle.others.ticks,
            idle.others.busiest,
            `${(rssEnd / 1024).toFixed(1)} MiB`,
            "0 wake-ups, 0 ticks (hard)",
            BenchTable.met(quiet, true)
          ]
        ],
        [
          `the built CLI (apps/cli/dist), ${idle.others.threads + 1} threads; a real login in a temp HOME against the loopback simulator (usage endpoint called ${usageCalls}× by the asks; status ${answered ? "had numbers" : "had NO numbers"})`,
          `a wake-up is a context switch in /proc/<pid>/task/<tid>/status; a CPU tick is 1/${100} s of utime+stime`,
          `measured ${s(Date.now() - started)}; IDLE_SETTLE_MS and IDLE_MS shorten the windows (the issue's is 3 minutes)`
        ]
      )
    )
    if (!answered || usageCalls === 0) {
      console.log("\nthe daemon never polled the simulator: the idle figures would not describe a working daemon")
      return 1
    }
    console.log(`\n## Hard targets: ${quiet ? 1 : 0}/1 met`)
    return quiet ? 0 : 1
  } finally {
    daemon.kill("SIGTERM")
    await new Promise((resolve) => daemon.once("exit", resolve))
    await sim.close()
    await home.cleanup()
  }
}

process.exitCode = await main()
