// `pnpm --filter @tollgate/daemon bench`: what one statusline render costs.
// Builds apps/cli and spawns what `tollgate statusline install` puts in
// Claude Code's settings — `node <abs>/dist/tollgate.js statusline` — the way
// Claude Code spawns its statusLine command (a realistic stdin document
// written and closed), in a throwaway HOME, interleaved run by run with
// `node -e 0` (the floor any Node statusline pays) and with ccstatusline on
// the same stdin. Prints medians, p90s and ratios, writes bench-results.json
// beside package.json, and exits 1 when a hard target is missed:
//   - ≤ 1.3 × `node -e 0` with no daemon, and with the real daemon running
//     while Claude Code's numbers are unchanged (the statusline reads the
//     daemon's published answer; it asks once the answer is 15 s old, which
//     the interleaved runs include)
//   - ccstatusline's median ≥ 4 × the slower of those two
// A third tollgate row — new numbers on every render, so every render asks
// the daemon over its socket — is reported, not gated: Claude Code's numbers
// change about once per API response, not per render.
import { spawn, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import * as os from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as BenchTable from "@tollgate/conformance/BenchTable"
import { build } from "esbuild"
import * as Paths from "../src/Paths.js"
import * as Protocol from "../src/Protocol.js"
import { buildCli, CLI, startDaemon } from "./cli.js"

// Node-sized subjects are cheap, so they get more runs for a steadier median; ccstatusline gets the minimum.
const RUNS = 60
const CCSTATUSLINE_RUNS = 30
const WARMUP = 3
const MAX_RATIO_TO_NODE = 1.3
const MIN_SPEEDUP_VS_CCSTATUSLINE = 4
const RESULTS = fileURLToPath(new URL("../bench-results.json", import.meta.url))
const STATUSLINE_MAIN = fileURLToPath(new URL("../src/statusline/main.ts", import.meta.url))

// What Claude Code 2.1.x pipes to statusLine.command once a subscriber has had an API response.
const stdinDocument = (cwd: string, fiveHour: number, now: number): string =>
  JSON.stringify({
    session_id: "4e33ed9f-743c-4f5c-b416-142da687ff41",
    transcript_path: join(cwd, ".claude/projects/-bench/4e33ed9f-743c-4f5c-b416-142da687ff41.jsonl"),
    cwd,
    effort: { level: "medium" },
    model: { id: "claude-opus-4-1", display_name: "Opus" },
    workspace: { current_dir: cwd, project_dir: cwd, added_dirs: [] },
    version: "2.1.330",
    output_style: { name: "default" },
    cost: {
      total_cost_usd: 1.27,
      total_duration_ms: 912_000,
      total_api_duration_ms: 201_000,
      total_lines_added: 120,
      total_lines_removed: 31
    },
    context_window: {
      total_input_tokens: 48_211,
      total_output_tokens: 9_120,
      context_window_size: 200_000,
      used_percentage: 24,
      remaining_percentage: 76
    },
    exceeds_200k_tokens: false,
    rate_limits: {
      five_hour: { used_percentage: fiveHour, resets_at: Math.floor(now / 1000) + 3 * 3600 },
      seven_day: { used_percentage: 13, resets_at: Math.floor(now / 1000) + 4 * 86_400 }
    }
  })

interface Subject {
  readonly name: string
  readonly argv: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
  readonly runs?: number
  /** Stdin for run `i` (default: the shared document). */
  readonly stdin?: (i: number) => string
}

interface Run {
  readonly ms: number
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const runOnce = (subject: Subject, env: Readonly<Record<string, string>>, cwd: string, stdin: string): Promise<Run> =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const [file, ...args] = subject.argv
    const child = spawn(file ?? process.execPath, args, {
      cwd,
      env: { ...env, ...subject.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    child.stdin.on("error", () => {})
    child.on("error", reject)
    child.on("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, stdout, stderr }))
    child.stdin.end(stdin)
  })

const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN

/** What the dispatcher's statusline path bundles: the client alone must import nothing from node_modules. */
const bundleStatusline = async (dir: string) => {
  const outfile = join(dir, "statusline.cjs")
  const result = await build({
    stdin: {
      contents: `import { run } from ${JSON.stringify(STATUSLINE_MAIN)}\nvoid run()\n`,
      resolveDir: dir,
      loader: "ts"
    },
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    metafile: true,
    logLevel: "warning"
  })
  const inputs = Object.keys(result.metafile.inputs)
  return { bytes: (await stat(outfile)).size, inputs, heavy: inputs.filter((i) => i.includes("node_modules")) }
}

const ccstatuslineBin = (): string | null => {
  try {
    const require = createRequire(import.meta.url)
    const manifestPath = require.resolve("ccstatusline/package.json")
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: string | Record<string, string> }
    const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.["ccstatusline"]
    return bin === undefined ? null : join(dirname(manifestPath), bin)
  } catch {
    return null
  }
}

const publishedAt = async (env: Readonly<Record<string, string>>): Promise<number | null> => {
  try {
    return (JSON.parse(await readFile(Paths.resolve(env).published, "utf8")) as Protocol.Published).answeredAt
  } catch {
    return null
  }
}

const main = async (): Promise<number> => {
  const started = performance.now()
  const root = await mkdtemp(join(os.tmpdir(), "tollgate-statusline-bench-"))
  const daemons: Array<ChildProcess> = []
  try {
    // A throwaway HOME: neither tollgate nor ccstatusline may read or write the real one.
    const home = join(root, "home")
    const project = join(root, "project")
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_STATE_HOME: join(home, ".local/state"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_RUNTIME_DIR: join(root, "run"),
      TMPDIR: join(root, "tmp"),
      // No login in this HOME, so nothing would be called; and nothing could leave the machine if it were.
      TOLLGATE_API_BASE_URL: "http://127.0.0.1:9",
      TOLLGATE_OAUTH_BASE_URL: "http://127.0.0.1:9"
    }
    await Promise.all(
      [home, project, join(root, "tmp"), join(root, "run")].map((d) => mkdir(d, { recursive: true, mode: 0o700 }))
    )
    // The rows judge the CLI a user installs, so it is built from this source first.
    await buildCli()
    const bundle = await bundleStatusline(root)

    // Two daemons: one whose statusline brings the same numbers every time, one that gets news every time
    // (interleaved on one daemon, each would make the other's numbers news).
    const daemonEnv = (name: string) => ({
      XDG_RUNTIME_DIR: join(root, `run-${name}`),
      XDG_STATE_HOME: join(root, `state-${name}`)
    })
    const steadyEnv = daemonEnv("steady")
    const newsEnv = daemonEnv("news")
    daemons.push(await startDaemon({ ...env, ...steadyEnv }), await startDaemon({ ...env, ...newsEnv }))

    const now = Date.now()
    const stdin = stdinDocument(project, 42, now)
    const statusline = [process.execPath, CLI, "statusline"]
    const node: Subject = { name: "node -e 0", argv: [process.execPath, "-e", "0"] }
    // What reading stdin the usual way (process.stdin: node:net, streams) costs any Node statusline.
    const usual: Subject = {
      name: "node -e <process.stdin: one chunk, then a line>",
      argv: [
        process.execPath,
        "-e",
        'const s = process.stdin; s.once("data", () => { s.unref(); require("fs").writeSync(1, "x\\n") })'
      ]
    }
    const alone: Subject = { name: "tollgate statusline, no daemon", argv: statusline }
    const steady: Subject = { name: "tollgate statusline, daemon up, same numbers", argv: statusline, env: steadyEnv }
    const news: Subject = {
      name: "tollgate statusline, daemon up, new numbers every render",
      argv: statusline,
      env: newsEnv,
      stdin: (i) => stdinDocument(project, 10 + (i % 80), now)
    }
    const ccBin = ccstatuslineBin()
    const cc: Subject | null = ccBin
      ? { name: "ccstatusline 2.x (default config)", argv: [process.execPath, ccBin], runs: CCSTATUSLINE_RUNS }
      : null
    const subjects = [node, usual, alone, steady, news, ...(cc ? [cc] : [])]

    const times = new Map<Subject, Array<number>>(subjects.map((s) => [s, []]))
    const samples = new Map<Subject, Run>()
    let steadyAsks = 0
    // Warm-up (also lets ccstatusline write its default settings once), then round-robin so drift hits all alike.
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const subject of subjects) {
        if (i >= WARMUP + (subject.runs ?? RUNS)) continue
        const before = subject === steady ? await publishedAt({ ...env, ...steadyEnv }) : null
        const run = await runOnce(subject, env, project, subject.stdin?.(i) ?? stdin)
        if (run.code !== 0) throw new Error(`${subject.name} exited ${run.code}: ${run.stderr.slice(0, 500)}`)
        // The daemon republishes on every answer: a changed date means this render asked.
        if (subject === steady && i >= WARMUP && (await publishedAt({ ...env, ...steadyEnv })) !== before) steadyAsks++
        if (i >= WARMUP) times.get(subject)?.push(run.ms)
        else samples.set(subject, run)
      }
    }

    const stats = (s: Subject) => {
      const sorted = [...(times.get(s) ?? [])].sort((a, b) => a - b)
      return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) }
    }
    const base = stats(node).median
    const slowerJudged = Math.max(stats(alone).median, stats(steady).median)
    interface Row {
      readonly subject: Subject
      readonly target: string
      readonly met: boolean | null
      readonly hard: boolean
    }
    const ratioOk = (s: Subject) => stats(s).median / base <= MAX_RATIO_TO_NODE
    const rows: Array<Row> = [
      { subject: node, target: "baseline", met: null, hard: false },
      { subject: usual, target: "— (informational)", met: null, hard: false },
      { subject: alone, target: `≤ ${MAX_RATIO_TO_NODE}× node (hard)`, met: ratioOk(alone), hard: true },
      { subject: steady, target: `≤ ${MAX_RATIO_TO_NODE}× node (hard)`, met: ratioOk(steady), hard: true },
      { subject: news, target: `≤ ${MAX_RATIO_TO_NODE}× node (informational)`, met: ratioOk(news), hard: false },
      ...(cc
        ? [
            {
              subject: cc,
              target: `tollgate ≥ ${MIN_SPEEDUP_VS_CCSTATUSLINE}× faster (hard)`,
              met: stats(cc).median / slowerJudged >= MIN_SPEEDUP_VS_CCSTATUSLINE,
              hard: true
            }
          ]
        : [])
    ]
    console.log(
      `# statusline bench — node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(2)}; ` +
        `${RUNS} runs each (ccstatusline ${CCSTATUSLINE_RUNS}) after ${WARMUP} warm-up, interleaved`
    )
    console.log(
      BenchTable.section(
        "Statusline wall time per render",
        ["command", "median ms", "p90 ms", "× node -e 0", "ccstatusline ÷ this", "target", "met?"],
        rows.map(({ subject, target, met, hard }) => {
          const s = stats(subject)
          return [
            subject.name,
            s.median.toFixed(1),
            s.p90.toFixed(1),
            BenchTable.ratio(s.median, base),
            cc ? BenchTable.ratio(stats(cc).median, s.median) : "—",
            target,
            met === null ? "—" : BenchTable.met(met, hard)
          ]
        }),
        [
          `tollgate rows run \`node apps/cli/dist/tollgate.js statusline\`, what \`tollgate statusline install\` writes, built from this source`,
          "stdin: a Claude Code 2.1.x statusLine document with rate_limits, written and closed (Claude Code 2.1.330 closes it)",
          "no daemon: no socket; daemon up: the built CLI's real `tollgate daemon run` (one per row, no login) on its socket",
          `same numbers: the statusline read the daemon's published answer and asked it ${steadyAsks} of ${RUNS} times ` +
            `(once the answer was ${Protocol.PUBLISHED_FRESH_MS / 1000} s old); new numbers: every render asks over the socket`,
          "process.stdin row: reading stdin the usual way loads node:net and the streams; the client reads fd 0 with fs.read instead",
          `statusline client bundle: ${(bundle.bytes / 1024).toFixed(1)} KiB from ${bundle.inputs.length} source files, ${bundle.heavy.length} from node_modules (hard: 0)`,
          cc
            ? "ccstatusline: its own bin, default settings (model, context, git widgets) written by the first warm-up run into the temp HOME; " +
              "offline, in a non-git project directory; its usage widgets would call the API, so they are not measured. Judged against the slower hard tollgate row"
            : "ccstatusline: not installed (pnpm install), row left out"
        ]
      )
    )
    console.log("\nOne line from each (after warm-up):")
    for (const subject of subjects)
      console.log(`  ${subject.name}: ${JSON.stringify((samples.get(subject)?.stdout ?? "").trimEnd())}`)

    const hard = rows.filter((r) => r.hard)
    const failed = [
      ...hard.filter((r) => r.met === false).map((r) => `${r.subject.name}: ${r.target}`),
      ...(bundle.heavy.length > 0 ? ["statusline bundle imports node_modules"] : [])
    ]
    await writeFile(
      RESULTS,
      `${JSON.stringify(
        {
          node: process.version,
          rows: rows.map((r) => ({
            command: r.subject.name,
            runs: r.subject.runs ?? RUNS,
            ...stats(r.subject),
            target: r.target,
            met: r.met
          })),
          steadyAsks: { asked: steadyAsks, renders: RUNS, freshMs: Protocol.PUBLISHED_FRESH_MS },
          bundle: { bytes: bundle.bytes, inputs: bundle.inputs.length, nodeModules: bundle.heavy.length }
        },
        null,
        2
      )}\n`
    )
    console.log(
      `\n## Hard targets: ${hard.length + 1 - failed.length}/${hard.length + 1} met (${Math.round(performance.now() - started)} ms)`
    )
    if (failed.length > 0) console.log(`MISSED (exit 1): ${failed.join("; ")}`)
    return failed.length > 0 ? 1 : 0
  } finally {
    for (const daemon of daemons) daemon.kill("SIGTERM")
    await Promise.all(
      daemons.map((d) => (d.exitCode === null ? new Promise((resolve) => d.once("exit", resolve)) : null))
    )
    await rm(root, { recursive: true, force: true })
  }
}

process.exitCode = await main()
