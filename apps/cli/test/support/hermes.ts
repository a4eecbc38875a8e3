/**
 * Hermes Agent's real credential code (the pinned copy in ../shared/realclients,
 * run with Debian's /usr/bin/python3, not a pyenv shim without its packages) in
 * a tollgate test sandbox: the simulator behind the HTTPS MITM proxy (Hermes's
 * token URL is fixed to platform.claude.com; urllib honours HTTPS_PROXY and
 * SSL_CERT_FILE), a Claude Code login in `$HOME/.claude`, and a Hermes home.
 * Token POSTs are told apart by who sent them: Hermes's urllib (User-Agent
 * axios/1.7.9, through the proxy to platform.claude.com or console.anthropic.com)
 * or tollgate (directly at the simulator's address).
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { defaultHosts, type MitmProxy, startMitm } from "@tollgate/conformance/Mitm"
import * as Simulator from "@tollgate/conformance/Simulator"
import { buildCli } from "../../build.mjs"
import { collect, type Run, type Sandbox } from "../tollgate.js"

/** Debian's python3 with python3-httpx, -yaml, -dotenv and -requests (scripts/python-deps.sh). */
export const PYTHON = "/usr/bin/python3"
/**
 * The pinned Hermes and its driver (README in that directory): `$TOLLGATE_REALCLIENTS`, else
 * `../shared/realclients` beside this checkout. Missing, every Hermes judge fails saying where it looked:
 * the judge is the point, so it is never skipped.
 */
export const REALCLIENTS =
  process.env["TOLLGATE_REALCLIENTS"] || fileURLToPath(new URL("../../../../../shared/realclients/", import.meta.url))
export const DRIVER = join(REALCLIENTS, "hermes_driver.py")
if (!existsSync(DRIVER)) {
  throw new Error(
    `The Hermes judge needs the pinned Hermes Agent code and its driver at ${REALCLIENTS} (../shared/realclients beside the checkout); set TOLLGATE_REALCLIENTS to where they are`
  )
}
/** Starts Hermes the way its CLI does (.env loaded, plugins discovered), then the driver. */
export const RUNNER = fileURLToPath(new URL("./hermes_run.py", import.meta.url))

/** The driver's modes: which Hermes path runs (realclients README). */
export const MODES = ["resolve", "pool", "runtime", "force", "aux401"] as const
export type Mode = (typeof MODES)[number]

/** The User-Agent Hermes's urllib sends to the token endpoint. */
export const HERMES_TOKEN_UA = "axios/1.7.9"

/** A sandbox with the simulator, the proxy, a Claude Code login and a Hermes home. */
export interface HermesWorld {
  readonly sandbox: Sandbox
  readonly sim: Simulator.Simulator
  readonly proxy: MitmProxy
  readonly hermesHome: string
  /** `$HOME/.claude/.credentials.json`, the path Hermes reads (it ignores CLAUDE_CONFIG_DIR). */
  readonly store: string
  /** What every Hermes and tollgate process of this world gets. */
  readonly env: Readonly<Record<string, string>>
  readonly stored: () => Promise<{ claudeAiOauth: Record<string, unknown> }>
  readonly close: () => Promise<void>
}

/** Hermes's config.yaml before any install: the credential pool needs `model.provider: anthropic`. */
export const HERMES_CONFIG = `# Hermes Agent config (a test's)
model:
  default: claude-sonnet-4-5  # the main model
  provider: anthropic
toolsets:
- hermes-cli
`

/** How long a world's simulator and proxy live, and the simulator's clock (default `Date.now`). */
export interface WorldOptions {
  readonly ttlMs?: number | undefined
  readonly now?: (() => number) | undefined
}

/** Starts a world whose Claude Code login expires in `expiresInMs`. */
export const hermesWorld = async (
  sandbox: Sandbox,
  expiresInMs: number,
  options: WorldOptions = {}
): Promise<HermesWorld> => {
  const ttlMs = options.ttlMs ?? 300_000
  const sim = await Simulator.start({
    scenario: { name: "hermes", summary: "a Claude Code login Hermes shares", account: { expiresInMs } },
    ttlMs,
    now: options.now
  })
  const certs = join(sandbox.root, "certs")
  await mkdir(certs, { recursive: true })
  // console.anthropic.com too: Hermes falls back to it on any error, and that POST counts as well.
  const proxy = await startMitm({
    handler: sim.listener,
    dir: certs,
    hosts: [...defaultHosts, "console.anthropic.com"],
    ttlMs
  })
  const hermesHome = join(sandbox.root, "hermes")
  await mkdir(hermesHome, { recursive: true, mode: 0o700 })
  await writeFile(join(hermesHome, "config.yaml"), HERMES_CONFIG)
  const claudeDir = join(sandbox.home, ".claude")
  await mkdir(claudeDir, { recursive: true, mode: 0o700 })
  const store = join(claudeDir, ".credentials.json")
  const record = {
    accessToken: sim.account.accessToken,
    refreshToken: sim.account.refreshToken,
    expiresAt: sim.account.expiresAt,
    scopes: [...sim.account.scopes],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x"
  }
  await writeFile(store, JSON.stringify({ claudeAiOauth: record }), { mode: 0o600 })
  const env = {
    ...sandbox.env,
    ...proxy.env,
    ...sim.env,
    HERMES_HOME: hermesHome,
    SSL_CERT_FILE: proxy.caCertPath
  }
  return {
    sandbox,
    sim,
    proxy,
    hermesHome,
    store,
    env,
    stored: async () => JSON.parse(await readFile(store, "utf8")),
    close: async () => {
      await proxy.close()
      await sim.close()
    }
  }
}

/** Token POSTs so far: Hermes's own, and tollgate's (the plugin's `tollgate token`). */
export const tokenPosts = (sim: Simulator.Simulator) => {
  const posts = sim.log.filter((r) => r.route === "token")
  const hermes = posts.filter((r) => r.userAgent === HERMES_TOKEN_UA)
  return { hermes: hermes.length, tollgate: posts.length - hermes.length }
}

/** What one Hermes run printed: the plugins line, the driver's result, its runtime line (mode `runtime`). */
export interface HermesResult {
  readonly run: Run
  readonly plugins: Record<string, { enabled: boolean; error: string | null }>
  readonly result: { hermes: string; ok: boolean; token_fp: string | null; error: string | null } | null
  readonly runtime: { provider: string; api_mode: string; base_url: string; source: string } | null
}

const parseLines = (run: Run): HermesResult => {
  const lines = run.stdout.split("\n").flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>]
    } catch {
      return []
    }
  })
  const find = (key: string) => lines.find((l) => key in l)
  return {
    run,
    plugins: (find("plugins")?.["plugins"] ?? {}) as HermesResult["plugins"],
    result: (find("hermes") ?? null) as HermesResult["result"],
    runtime: (find("runtime")?.["runtime"] ?? null) as HermesResult["runtime"]
  }
}

/** Runs one Hermes path in `world` (plus `env`), to the end. */
export const runHermes = async (
  world: HermesWorld,
  mode: Mode,
  env: Readonly<Record<string, string>> = {}
): Promise<HermesResult> =>
  parseLines(
    await collect(PYTHON, [RUNNER, DRIVER, mode], world.sandbox.root, { ...world.env, ...env }, { timeoutMs: 90_000 })
  )

/**
 * Starts `count` Hermes processes on `mode` that each import Hermes, say
 * `ready` and wait for `goFile` to exist (the driver's race start). `ready`
 * resolves once all of them are waiting; `results` once all have exited.
 * For races: start these, start the other clients, then create `goFile`.
 */
export const startHermes = (world: HermesWorld, mode: Mode, count: number, goFile: string) => {
  const runs = Array.from({ length: count }, () => {
    const child = spawn(PYTHON, [RUNNER, DRIVER, mode, goFile], {
      cwd: world.sandbox.root,
      env: world.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000
    })
    let stdout = ""
    let stderr = ""
    let onReady: () => void = () => {}
    const ready = new Promise<void>((resolve) => (onReady = resolve))
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (/^ready$/m.test(stdout)) onReady()
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const done = new Promise<HermesResult>((resolve, reject) => {
      child.on("error", reject)
      child.on("close", (code) => {
        onReady()
        resolve(parseLines({ code, stdout, stderr }))
      })
    })
    return { ready, done }
  })
  return {
    ready: Promise.all(runs.map((r) => r.ready)).then(() => undefined),
    results: Promise.all(runs.map((r) => r.done))
  }
}

/**
 * The CLI built by build.mjs into `dir/tollgate-dist`; returns the dispatcher's path.
 * `tollgate hermes install` run from it writes it into the plugin's command, so the plugin starts a
 * built tollgate (about 0.5 s) as a user's does, not the TypeScript source under tsx (about 4 s).
 */
export const bundleTollgate = async (dir: string): Promise<string> => buildCli(join(dir, "tollgate-dist"))
