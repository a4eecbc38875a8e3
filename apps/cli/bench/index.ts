// `cd apps/cli && pnpm bench` (issue 15, item 5): the CLI as npm users get it.
// Packs and installs `@tollgate/cli` like test/pack.test.ts (npm i -g --offline
// into a temp prefix, temp HOME and npm cache), then reports, every number a
// ratio to a baseline measured in the same run, interleaved, medians:
//   1. install footprint (hard target: CLI ≤ 5 MB on disk),
//   2. start-up of each installed command vs `node -e 0` (hard: statusline ≤ 1.3×;
//      the 3× targets of the other commands are reported, not failed),
//   3. the idle daemon's RSS, after it answered one ask with one usage call, vs a
//      bare Unix-socket server doing one fetch per ask (bench/floor.mjs; hard ≤ 1.3×).
// The temp HOME holds a Claude Code login issued by the loopback simulator, which
// every command is pointed at: doctor reports it, token prints it, the daemon
// asks the simulator's usage endpoint.
// Writes bench-results.json beside package.json. Exit 1 only on the hard targets.
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs"
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises"
import { createServer } from "node:http"
import { connect } from "node:net"
import { loadavg, tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import * as BenchTable from "@tollgate/conformance/BenchTable"
import * as Simulator from "@tollgate/conformance/Simulator"
import { OUTFILE } from "@tollgate/opencode/build"

const run = promisify(execFile)
const APP = fileURLToPath(new URL("..", import.meta.url))
// The opencode package's own directory, from where it says its build goes (dist/ in it).
const OPENCODE = dirname(dirname(OUTFILE))
const FLOOR = fileURLToPath(new URL("./floor.mjs", import.meta.url))
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 15)
const FOOTPRINT_LIMIT = 5_000_000
const STATUSLINE_LIMIT = 1.3
const COMMAND_TARGET = 3
const RSS_TARGET = 1.3
// Idle means idle: V8's memory reducer hands startup garbage back about 10 s after a process goes quiet (the
// daemon measured 64.8 MiB at 8 s and 58.7 MiB from 15 s on), so both processes are read after 20 s.
const SETTLE_MS = 20_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Bytes on disk the way `du -b` counts them: every regular file's size. */
const bytes = async (path: string): Promise<number> => {
  const info = await stat(path)
  if (!info.isDirectory()) return info.size
  let total = 0
  for (const name of await readdir(path)) total += await bytes(join(path, name))
  return total
}

const dir = realpathSync(await mkdtemp(join(tmpdir(), "tollgate-cli-bench-")))
const children: Array<ChildProcess> = []
const closers: Array<() => Promise<void>> = []
const cleanup = async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  for (const close of closers) await close().catch(() => {})
  await rm(dir, { recursive: true, force: true, maxRetries: 5 })
}

try {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")
  console.log(`# @tollgate/cli bench — node ${process.version}, load average ${load}, ${ROUNDS} rounds`)

  // ---- 1. install footprint -------------------------------------------------
  const home = join(dir, "home")
  const xdg = {
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local/state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_RUNTIME_DIR: join(dir, "run")
  }
  for (const d of [home, ...Object.values(xdg), join(dir, "packs"), join(dir, "tmp")])
    await mkdir(d, { recursive: true, mode: 0o700 })
  const npmEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, npm_config_cache: join(dir, "npm-cache") }
  // `pnpm pack` runs prepack, i.e. build.mjs: the bench never times a stale dist/.
  await run("pnpm", ["pack", "--pack-destination", join(dir, "packs")], {
    cwd: APP,
    env: { ...process.env, ...npmEnv },
    timeout: 180_000
  })
  await run("pnpm", ["pack", "--pack-destination", join(dir, "packs")], {
    cwd: OPENCODE,
    env: { ...process.env, ...npmEnv },
    timeout: 180_000
  })
  const packs = await readdir(join(dir, "packs"))
  const cliTgz = join(dir, "packs", packs.find((n) => n.startsWith("tollgate-cli-"))!)
  const ocTgz = join(dir, "packs", packs.find((n) => n.startsWith("tollgate-opencode-"))!)
  const prefix = join(dir, "prefix")
  await run("npm", ["install", "--global", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", cliTgz], {
    cwd: dir,
    env: npmEnv,
    timeout: 180_000
  })
  const installed = join(prefix, "lib", "node_modules", "@tollgate", "cli")
  const bin = join(prefix, "bin", "tollgate")
  const cliBytes = await bytes(installed)
  const cliTgzBytes = (await stat(cliTgz)).size
  // opencode's dependencies come from a registry: we measure the tarball itself (unpacked bytes, file count).
  const listing = (await run("tar", ["-tvzf", ocTgz], { maxBuffer: 64 << 20 })).stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("-"))
  const ocUnpacked = listing.reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[2]), 0)
  const ocManifest = JSON.parse((await run("tar", ["-xzOf", ocTgz, "package/package.json"])).stdout) as {
    dependencies?: Record<string, string>
  }
  const footprintOk = cliBytes <= FOOTPRINT_LIMIT
  console.log(
    BenchTable.section(
      "Install footprint",
      ["package", "measured", "bytes", "MiB", "files", "target", "met"],
      [
        [
          "@tollgate/cli",
          "installed dir after npm i -g",
          BenchTable.count(cliBytes),
          (cliBytes / 1_048_576).toFixed(2),
          "—",
          "≤ 5,000,000 B",
          BenchTable.met(footprintOk, true)
        ],
        [
          "@tollgate/cli",
          "tarball (gzip)",
          BenchTable.count(cliTgzBytes),
          (cliTgzBytes / 1_048_576).toFixed(2),
          "—",
          "",
          ""
        ],
        [
          "@tollgate/opencode",
          "tarball unpacked (no deps)",
          BenchTable.count(ocUnpacked),
          (ocUnpacked / 1_048_576).toFixed(2),
          String(listing.length),
          "",
          ""
        ]
      ],
      [
        `@tollgate/opencode declares ${Object.keys(ocManifest.dependencies ?? {}).length} runtime dependencies (${Object.keys(ocManifest.dependencies ?? {}).join(", ") || "none"}); they come from a registry, so only its own files are measured.`
      ]
    )
  )

  // ---- 2. start-up ----------------------------------------------------------
  const sim = await Simulator.start({ scenario: "happy-path", ttlMs: 30 * 60_000 })
  closers.push(() => sim.close())
  const issued = sim.account
  await mkdir(join(home, ".claude"), { recursive: true, mode: 0o700 })
  await writeFile(
    join(home, ".claude", ".credentials.json"),
    JSON.stringify({
      claudeAiOauth: {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresAt: issued.expiresAt,
        scopes: issued.scopes,
        subscriptionType: issued.subscriptionType,
        rateLimitTier: issued.rateLimitTier
      }
    }),
    { mode: 0o600 }
  )
  const env = { ...npmEnv, ...xdg, ...sim.env, TMPDIR: join(dir, "tmp"), NO_COLOR: "1" }
  const classifyDoc = JSON.stringify({
    endpoint: "token",
    status: 400,
    headers: { "content-type": "application/json" },
    body: '{"error":"invalid_grant","error_description":"Refresh token not found or invalid"}',
    now: 1_760_000_000_000
  })
  const statuslineDoc = JSON.stringify({
    session_id: "bench",
    model: { id: "claude-sonnet-4-5", display_name: "Sonnet 4.5" },
    workspace: { current_dir: dir },
    cost: { total_cost_usd: 0.01 }
  })
  interface Case {
    readonly name: string
    readonly args: ReadonlyArray<string>
    readonly stdin?: string
    readonly note?: string
  }
  const cases: ReadonlyArray<Case> = [
    { name: "tollgate --help", args: ["--help"] },
    { name: "tollgate doctor --json", args: ["doctor", "--json"] },
    { name: "tollgate classify", args: ["classify"], stdin: classifyDoc },
    { name: "tollgate token --json", args: ["token", "--json"], note: "a login valid for hours: printed, no call" },
    { name: "tollgate statusline", args: ["statusline"], stdin: statuslineDoc }
  ]
  // One spawn, wall-clock until exit; stdin written and closed at once.
  const time = (file: string, args: ReadonlyArray<string>, stdin?: string) =>
    new Promise<{ ms: number; code: number | null; stderr: string }>((resolve, reject) => {
      const start = performance.now()
      const child = spawn(file, args, { env, cwd: dir, stdio: ["pipe", "ignore", "pipe"] })
      let stderr = ""
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
      child.once("error", reject)
      child.once("exit", (code) => resolve({ ms: performance.now() - start, code, stderr }))
      child.stdin!.end(stdin ?? "")
    })
  const startup: Array<{
    name: string
    node: number
    command: number
    ratio: number
    code: number | null
    target: number
    met: boolean
    hard: boolean
    note?: string
  }> = []
  for (const c of cases) {
    await time(bin, c.args, c.stdin) // warm the page cache once, untimed
    const node: Array<number> = []
    const cmd: Array<number> = []
    let code: number | null = null
    let stderr = ""
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so drift in the machine's load hits both sides alike.
      if (i % 2 === 0) node.push((await time(process.execPath, ["-e", "0"])).ms)
      const r = await time(bin, c.args, c.stdin)
      cmd.push(r.ms)
      code = r.code
      stderr = r.stderr
      if (i % 2 === 1) node.push((await time(process.execPath, ["-e", "0"])).ms)
    }
    const hard = c.name === "tollgate statusline"
    const target = hard ? STATUSLINE_LIMIT : COMMAND_TARGET
    const ratio = median(cmd) / median(node)
    if (code !== 0 && c.note === undefined) console.error(`${c.name} exited ${code}: ${stderr.slice(0, 300)}`)
    startup.push({
      name: c.name,
      node: median(node),
      command: median(cmd),
      ratio,
      code,
      target,
      met: ratio <= target,
      hard,
      ...(c.note ? { note: c.note } : {})
    })
  }
  console.log(
    BenchTable.section(
      "Start-up of the installed commands (through the npm bin symlink)",
      ["command", "exit", "median ms", "node -e 0 ms", "ratio", "target", "met"],
      startup.map((s) => [
        s.name + (s.note ? ` (${s.note})` : ""),
        String(s.code),
        s.command.toFixed(1),
        s.node.toFixed(1),
        s.ratio.toFixed(2),
        `≤ ${s.target}×`,
        s.met ? "yes" : s.hard ? "NO (hard)" : "target, not yet met"
      ]),
      [
        `${ROUNDS} rounds per command, each interleaved with a \`node -e 0\` run (order alternating); ratio of medians, one untimed warm-up run.`,
        "Only the statusline's 1.3× is a hard target (exit 1); the 3× targets of the other commands are reported, not failed. `--help` prints the help build.mjs rendered; what is left in doctor, classify and token is effect and @effect/cli starting (a one-command @effect/cli program measures ~2.4× with a warm code cache) and the Schema-typed verdicts and stores they load.",
        "The temp HOME holds a login from the loopback simulator: doctor reports it, token --json prints it (valid for hours, so no refresh call)."
      ]
    )
  )

  // ---- 3. idle RSS ----------------------------------------------------------
  // A loopback HTTP server for the floor's one fetch per ask.
  const http = createServer((_, res) => res.end("{}"))
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/`
  const rss = (pid: number) =>
    Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) * 1024
  const waitFor = async (check: () => boolean, what: string, child: ChildProcess, stderr: () => string) => {
    for (let i = 0; i < 300; i++) {
      if (check()) return
      if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${stderr().slice(0, 500)}`)
      await sleep(50)
    }
    throw new Error(`${what} never became ready: ${stderr().slice(0, 500)}`)
  }
  // Floor: start, ask once (one fetch), settle, read VmRSS.
  const floorSock = join(dir, "floor.sock")
  const floor = spawn(process.execPath, [FLOOR, floorSock, url], { env, stdio: ["ignore", "pipe", "pipe"] })
  children.push(floor)
  let floorErr = ""
  floor.stderr!.setEncoding("utf8").on("data", (c: string) => (floorErr += c))
  await waitFor(
    () => existsSync(floorSock),
    "the floor server",
    floor,
    () => floorErr
  )
  const askOnce = (socketPath: string) =>
    new Promise<string>((resolve) => {
      const s = connect(socketPath, () => s.write("ask\n"))
      let out = ""
      s.setEncoding("utf8")
        .on("data", (c: string) => (out += c))
        .on("close", () => resolve(out))
        .on("error", () => resolve(out))
    })
  const floorReply = (await askOnce(floorSock)).trim()
  // Daemon: `tollgate daemon run` from the install, logged in against the simulator.
  const daemon = spawn(process.execPath, [bin, "daemon", "run"], { env, stdio: ["ignore", "ignore", "pipe"] })
  children.push(daemon)
  let daemonErr = ""
  daemon.stderr!.setEncoding("utf8").on("data", (c: string) => (daemonErr += c))
  const daemonSockDir = join(xdg.XDG_RUNTIME_DIR, "tollgate")
  const daemonSocket = () => {
    try {
      const name = readdirSync(daemonSockDir).find((n) => statSync(join(daemonSockDir, n)).isSocket())
      return name === undefined ? undefined : join(daemonSockDir, name)
    } catch {
      return undefined
    }
  }
  await waitFor(
    () => daemonSocket() !== undefined,
    "tollgate daemon run",
    daemon,
    () => daemonErr
  )
  // One ask, the way Claude Code's statusline makes it: the daemon makes its usage call.
  const usageBefore = sim.count("usage")
  const asked = await time(bin, ["statusline"], statuslineDoc)
  for (let i = 0; i < 100 && sim.count("usage") === usageBefore; i++) await sleep(50)
  const usageCalls = sim.count("usage") - usageBefore
  if (asked.code !== 0 || usageCalls < 1)
    throw new Error(
      `the daemon did not make its usage call (statusline exit ${asked.code}, ${usageCalls} usage calls): ${daemonErr.slice(0, 300)}`
    )
  await sleep(SETTLE_MS)
  // Read both in the same instant, several times, median: the two processes settle alike.
  const floorRss: Array<number> = []
  const daemonRss: Array<number> = []
  for (let i = 0; i < 5; i++) {
    floorRss.push(rss(floor.pid!))
    daemonRss.push(rss(daemon.pid!))
    await sleep(200)
  }
  const rssRatio = median(daemonRss) / median(floorRss)
  const MiB = (b: number) => (b / 1_048_576).toFixed(1)
  console.log(
    BenchTable.section(
      "Idle RSS of `tollgate daemon run` (installed) vs the bare-server floor",
      ["process", "VmRSS MiB", "ratio", "target", "met"],
      [
        ["floor: bench/floor.mjs (Unix socket + 1 fetch)", MiB(median(floorRss)), "1.00", "", ""],
        [
          "tollgate daemon run (logged in, asked once)",
          MiB(median(daemonRss)),
          rssRatio.toFixed(2),
          `≤ ${RSS_TARGET}×`,
          rssRatio <= RSS_TARGET ? "yes" : "NO (hard)"
        ]
      ],
      [
        `Both started in the same run, ${SETTLE_MS / 1000} s settle after the daemon's socket appeared, median of 5 /proc/<pid>/status reads; the floor answered one ask with one fetch to a loopback server (reply: ${floorReply || "none"}).`,
        `The daemon runs from its own entry (dist/cli/daemon-run.cjs, no CLI) with the simulator's login; one statusline ask made it call the usage endpoint (${usageCalls} call). Hard target: exit 1 above ${RSS_TARGET}×.`
      ]
    )
  )
  http.close()

  const failed = !footprintOk || startup.some((s) => s.hard && !s.met) || rssRatio > RSS_TARGET
  await writeFile(
    join(APP, "bench-results.json"),
    `${JSON.stringify(
      {
        node: process.version,
        loadavg: loadavg(),
        rounds: ROUNDS,
        footprint: {
          cliInstalledBytes: cliBytes,
          cliTarballBytes: cliTgzBytes,
          limit: FOOTPRINT_LIMIT,
          met: footprintOk,
          opencodeTarballUnpackedBytes: ocUnpacked,
          opencodeTarballFiles: listing.length,
          opencodeDependencies: ocManifest.dependencies ?? {}
        },
        startup,
        idleRss: {
          floorBytes: median(floorRss),
          daemonBytes: median(daemonRss),
          ratio: rssRatio,
          target: RSS_TARGET,
          met: rssRatio <= RSS_TARGET
        }
      },
      null,
      2
    )}\n`
  )
  console.log(`\nwrote ${join(APP, "bench-results.json")}${failed ? " — a hard target was missed" : ""}`)
  process.exitCode = failed ? 1 : 0
} finally {
  await cleanup()
}
