// `tollgate refresh` (the bundled CLI, as a user runs it) stopped by SIGINT,
// SIGTERM and SIGHUP: at random instants, and aimed at each phase of a
// refresh — waiting for a lock someone else holds, holding Claude Code's
// refresh lock, holding the storage-write lock, the token request in flight,
// the response on its way back. After every cycle: the store holds the
// refresh token the simulator considers live (nothing spent was lost), no
// lock, owner record or temp file is left behind, the store parses with mode
// 0600, and the real `claude auth status` says loggedIn.
import { existsSync, watch } from "node:fs"
import { lstat, mkdir, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { claudeAuthStatus, makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import { type MitmProxy, startMitm } from "@tollgate/conformance/Mitm"
import * as Simulator from "@tollgate/conformance/Simulator"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundleCli, type Child, makeWorkspace, spawnNode, type Workspace } from "./harness/bundle.js"

const RANDOM_CYCLES = 200
const AIMED_CYCLES = 20
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const
const EXIT_ON = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const

let workspace: Workspace
let cli: string
let home: TempHome
let sim: Simulator.Simulator
let proxy: MitmProxy
let store: string
let legacyLock: string

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-signals-")
  cli = await bundleCli(join(workspace.dir, "cli"))
  home = await makeTempHome("tollgate-signals-home-")
  sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 900_000, maxRequests: 100_000 })
  const certs = join(workspace.dir, "certs")
  await mkdir(certs, { recursive: true })
  proxy = await startMitm({ handler: sim.listener, dir: certs, ttlMs: 900_000 })
  store = join(home.claudeDir, ".credentials.json")
  legacyLock = `${await realpath(home.claudeDir)}.lock`
}, 60_000)

afterAll(async () => {
  await proxy?.close()
  await sim?.close()
  await home?.cleanup()
  await workspace?.cleanup()
})

/** An expired login holding the tokens the simulator considers live, plus keys we must keep. */
const seed = async () => {
  const live = sim.current()
  const document = {
    claudeAiOauth: {
      accessToken: live.accessToken,
      refreshToken: live.refreshToken,
      expiresAt: Date.now() - 60_000,
      scopes: [...live.scopes],
      subscriptionType: "max",
      rateLimitTier: "default_claude_max_20x"
    },
    mcpOAuth: { "linear|1": { serverName: "linear", accessToken: "mcp-token", expiresAt: 1 } }
  }
  await writeFile(store, JSON.stringify(document, null, 2), { mode: 0o600 })
}

const refresh = (): Child =>
  spawnNode(cli, ["refresh", "--if-needed"], { ...home.env, ...sim.env, NO_COLOR: "1" }, { timeoutMs: 45_000 })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Resolves once `test` holds, looking on every file-system event in the config dir and every 2 ms. */
const when = (test: () => boolean, limitMs = 10_000): Promise<boolean> =>
  new Promise((resolve) => {
    const watcher = watch(home.claudeDir)
    const done = (value: boolean) => {
      clearInterval(timer)
      clearTimeout(limit)
      watcher.close()
      resolve(value)
    }
    const look = () => test() && done(true)
    watcher.on("change", look)
    const timer = setInterval(look, 2)
    const limit = setTimeout(() => done(false), limitMs)
    look()
  })

const tokenRequests = () => sim.count("token")
const lastTokenRequest = () => [...sim.log].reverse().find((r) => r.route === "token")

type Phase = "random" | "waiting" | "refresh-lock" | "write-lock" | "request" | "response"

interface Cycle {
  readonly phase: Phase
  readonly signal: (typeof SIGNALS)[number]
  readonly delayMs?: number
}

/** Everything wrong after one cycle, as sentences; empty when all is well. */
const inspect = async (label: string): Promise<Array<string>> => {
  const problems: Array<string> = []
  const names = await readdir(home.claudeDir)
  // Claude Code keeps more in its directory (backups/, …); these are the refresh's.
  for (const name of names) {
    if (/^\.(oauth_refresh\.lock|storage-write\.lock|credentials\.json\.)/.test(name))
      problems.push(`${label}: left behind ${name}`)
  }
  if (existsSync(legacyLock)) problems.push(`${label}: left behind the legacy lock ${legacyLock}`)
  const stat = await lstat(store)
  if ((stat.mode & 0o777) !== 0o600) problems.push(`${label}: store mode ${(stat.mode & 0o777).toString(8)}`)
  let document: { claudeAiOauth?: { refreshToken?: string }; mcpOAuth?: unknown } | null = null
  try {
    document = JSON.parse(await readFile(store, "utf8"))
  } catch {
    problems.push(`${label}: the store does not parse`)
  }
  if (document !== null) {
    if (document.claudeAiOauth?.refreshToken !== sim.current().refreshToken) {
      problems.push(
        `${label}: LOST — the store's refresh token is not the live one (the spent token's successor was never written)`
      )
    }
    if (document.mcpOAuth === undefined) problems.push(`${label}: mcpOAuth dropped`)
  }
  return problems
}

const run = async (cycle: Cycle, index: number) => {
  await seed()
  const label = `cycle ${index} (${cycle.phase}, ${cycle.signal})`
  const before = tokenRequests()
  let foreignLock: string | null = null
  if (cycle.phase === "waiting") {
    // Someone alive (no owner record to prove otherwise) holds Claude Code's refresh lock.
    foreignLock = join(home.claudeDir, ".oauth_refresh.lock")
    await mkdir(foreignLock)
  }
  sim.setLatency("token", cycle.phase === "request" || cycle.phase === "write-lock" ? 150 : 0)
  const child = refresh()
  let aimed = true
  switch (cycle.phase) {
    case "random":
      await sleep(cycle.delayMs ?? 0)
      break
    case "waiting":
      await sleep(150 + Math.random() * 150)
      break
    case "refresh-lock":
      aimed = await when(() => existsSync(join(home.claudeDir, ".oauth_refresh.lock")))
      break
    case "write-lock":
      aimed = await when(() => existsSync(join(home.claudeDir, ".storage-write.lock")))
      break
    case "request":
      aimed = await when(() => tokenRequests() > before)
      break
    case "response":
      aimed = await when(() => tokenRequests() > before && lastTokenRequest()?.answeredAt !== undefined)
      break
  }
  child.kill(cycle.signal)
  const ended = await child.ended
  if (foreignLock !== null) {
    // Never removed by the waiter: it was not its lock.
    const kept = existsSync(foreignLock)
    await rm(foreignLock, { recursive: true, force: true })
    if (!kept)
      return { label, ended, aimed, spent: false, problems: [`${label}: the waiter removed a lock it did not own`] }
    if (tokenRequests() !== before)
      return { label, ended, aimed, spent: true, problems: [`${label}: refreshed while another process held the lock`] }
  }
  const spent = tokenRequests() > before
  const problems = await inspect(label)
  const expected = [0, EXIT_ON[cycle.signal]]
  // Before Node has installed any handler, a signal ends the process the default way; nothing was taken yet.
  if (!(ended.signal === cycle.signal || (ended.code !== null && expected.includes(ended.code)))) {
    problems.push(`${label}: ended with ${ended.code ?? ended.signal}: ${ended.stderr.trim()}`)
  }
  if (/internal error|at .*\.m?js:\d+/.test(ended.stderr))
    problems.push(`${label}: a stack trace on stderr: ${ended.stderr.trim()}`)
  return { label, ended, aimed, spent, problems }
}

const judge = async (label: string) => {
  const status = await claudeAuthStatus({ env: { ...home.env, ...proxy.env }, timeoutMs: 30_000 })
  return status.exitCode === 0 && status.json?.["loggedIn"] === true && status.json?.["subscriptionType"] === "max"
    ? []
    : [`${label}: claude auth status says ${JSON.stringify(status.json)} (exit ${status.exitCode})`]
}

describe("tollgate refresh stopped by a signal", () => {
  it(`≥${RANDOM_CYCLES} random and ${AIMED_CYCLES} aimed at each phase: nothing lost, nothing left behind, claude stays logged in`, async () => {
    // How long an unsignalled refresh takes, to spread the random signals over it.
    await seed()
    const started = Date.now()
    const baseline = await refresh().ended
    expect(baseline.code, baseline.stderr).toBe(0)
    // Start-up included: some signals land before any handler, most during the refresh, some after it.
    const spanMs = (Date.now() - started) * 1.2

    const cycles: Array<Cycle> = []
    for (let i = 0; i < RANDOM_CYCLES; i++) {
      cycles.push({ phase: "random", signal: SIGNALS[i % SIGNALS.length]!, delayMs: Math.random() * spanMs })
    }
    for (const phase of ["waiting", "refresh-lock", "write-lock", "request", "response"] as const) {
      for (let i = 0; i < AIMED_CYCLES; i++) cycles.push({ phase, signal: SIGNALS[i % 2]! })
    }
    const problems: Array<string> = []
    const outcomes = { finished: 0, interrupted: 0, beforeHandlers: 0, missedAim: 0, spentThenSignalled: 0 }
    for (const [index, cycle] of cycles.entries()) {
      const result = await run(cycle, index)
      problems.push(...result.problems, ...(await judge(result.label)))
      if (!result.aimed) outcomes.missedAim++
      if (result.ended.code === 0) outcomes.finished++
      else if (result.ended.signal !== null) outcomes.beforeHandlers++
      else outcomes.interrupted++
      // The token was spent and the signal still reached our handler: the cases that used to log out.
      if (result.spent && result.ended.code !== null && result.ended.code !== 0) outcomes.spentThenSignalled++
      if (problems.length > 5) break
    }
    console.log(
      `signals: ${cycles.length} cycles over a ${Math.round(spanMs)} ms spread, ${JSON.stringify(outcomes)}, ${sim.count("token")} token POSTs`
    )
    expect(problems).toEqual([])
    // The aimed cycles must really have landed mid-refresh, or they prove nothing.
    expect(outcomes.spentThenSignalled).toBeGreaterThanOrEqual(AIMED_CYCLES * 2)
  }, 900_000)
})
