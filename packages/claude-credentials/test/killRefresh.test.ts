// A refresh SIGKILLed at random instants (the harness process: the library as
// any runtime embeds it, reporting each span's start and end synchronously).
// Nothing can stop a SIGKILL, so the promise is narrower than for signals:
// the store is never corrupt and never wider than 0600, and a login is lost
// only when the kill landed between sending the token request and the rename
// that stores its answer — the window `pnpm bench` measures. A lock left by
// the killed process is taken over by the next refresh at once: its owner
// record proves the holder dead.
import { existsSync } from "node:fs"
import { lstat, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeWorkspace, resultOf, spawnNode, type Workspace } from "./harness/bundle.js"

const MIN_KILLS = 300
const REQUEST = "tollgate.refresh.request"
const PERSIST = "tollgate.refresh.persist"

let workspace: Workspace
let home: TempHome
let sim: Simulator.Simulator
let store: string

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-kill-refresh-")
  home = await makeTempHome("tollgate-kill-refresh-home-")
  sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 900_000, maxRequests: 100_000 })
  store = join(home.claudeDir, ".credentials.json")
})

afterAll(async () => {
  await sim?.close()
  await home?.cleanup()
  await workspace?.cleanup()
})

const seed = async () => {
  const live = sim.current()
  const login = {
    accessToken: live.accessToken,
    refreshToken: live.refreshToken,
    expiresAt: Date.now() - 60_000,
    scopes: [...live.scopes],
    subscriptionType: "max"
  }
  await writeFile(store, JSON.stringify({ claudeAiOauth: login, mcpOAuth: { x: { accessToken: "mcp" } } }), {
    mode: 0o600
  })
}

const refresh = () => spawnNode(workspace.harness, ["refresh", sim.url, "-"], home.env, { timeoutMs: 45_000 })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const marks = (stdout: string) =>
  new Set(
    stdout
      .split("\n")
      .filter((l) => l.startsWith("MARK "))
      .map((l) => l.slice(5, l.lastIndexOf(" ")))
  )

/** The locks a killed refresh can leave. */
const leftLocks = async () => {
  const names = await readdir(home.claudeDir)
  return names.filter((n) => n === ".oauth_refresh.lock" || n === ".storage-write.lock")
}

/** Whether an owner record names this very lock instance (its birth time), so the next refresh can take it over. */
const provablyDead = async (lock: string) => {
  const record = lock === ".oauth_refresh.lock" ? ".oauth_refresh.lock.owner" : ".storage-write.lock.tollgate-owner"
  const [stat, text] = await Promise.all([
    lstat(join(home.claudeDir, lock)).catch(() => null),
    readFile(join(home.claudeDir, record), "utf8").catch(() => null)
  ])
  if (stat === null || text === null) return false
  try {
    return (JSON.parse(text) as { lockBirthtimeMs?: number }).lockBirthtimeMs === stat.birthtimeMs
  } catch {
    return false
  }
}

// Far more than 300 kills need (about two minutes); a stuck refresh would otherwise only show as a timeout.
const DEADLINE_MS = 600_000

describe("a refresh killed with SIGKILL", () => {
  it(`≥${MIN_KILLS} kills at random instants: no corrupt or wider file; a login lost only inside the window`, async () => {
    await seed()
    const started = Date.now()
    const baseline = await refresh().ended
    expect(resultOf(baseline.stdout)?.ok, baseline.stderr).toBe(true)
    const spreadMs = (Date.now() - started) * 1.2

    const problems: Array<string> = []
    const tally = { kills: 0, finished: 0, spent: 0, lostInFlight: 0, lostInWindow: 0, unprovableLocks: 0 }
    const legacy = `${await realpath(home.claudeDir)}.lock`
    while (tally.kills < MIN_KILLS && problems.length === 0) {
      await seed()
      const before = sim.count("token")
      const child = refresh()
      await sleep(Math.random() * spreadMs)
      child.kill("SIGKILL")
      const ended = await child.ended
      if (ended.signal === "SIGKILL") tally.kills++
      else tally.finished++
      if (sim.count("token") > before) tally.spent++
      const label = `kill ${tally.kills}`

      const stat = await lstat(store)
      if (!stat.isFile() || stat.size === 0) problems.push(`${label}: the store is not a non-empty regular file`)
      if ((stat.mode & 0o777) !== 0o600) problems.push(`${label}: store mode ${(stat.mode & 0o777).toString(8)}`)
      let document: { claudeAiOauth?: { refreshToken?: string }; mcpOAuth?: unknown } | null = null
      try {
        document = JSON.parse(await readFile(store, "utf8"))
      } catch {
        problems.push(`${label}: the store does not parse`)
      }
      if (document !== null && document.mcpOAuth === undefined) problems.push(`${label}: mcpOAuth dropped`)
      for (const name of await readdir(home.claudeDir)) {
        if (!name.startsWith(".credentials.json.")) continue
        const mode = (await lstat(join(home.claudeDir, name)).catch(() => null))?.mode
        if (mode !== undefined && (mode & 0o177) !== 0)
          problems.push(`${label}: temp file ${name} has mode ${(mode & 0o777).toString(8)}`)
      }
      if (document?.claudeAiOauth?.refreshToken !== sim.current().refreshToken) {
        const seen = marks(ended.stdout)
        if (!seen.has(`${REQUEST}:start`) || seen.has(`${PERSIST}:end`)) {
          problems.push(`${label}: a login was lost outside the request→rename window (marks: ${[...seen].join(", ")})`)
        } else if (seen.has(`${REQUEST}:end`)) tally.lostInWindow++
        else tally.lostInFlight++
      }
      // A kill between creating a lock and writing its owner record leaves a lock nobody can prove
      // dead; Claude Code and we take it over after its staleness (60 s / 15 s). Counted, then cleared.
      for (const lock of await leftLocks()) {
        if (!(await provablyDead(lock))) {
          tally.unprovableLocks++
          await rm(join(home.claudeDir, lock), { recursive: true, force: true })
          if (lock === ".oauth_refresh.lock") await rm(legacy, { recursive: true, force: true })
        }
      }
      if (Date.now() - started > DEADLINE_MS)
        problems.push(`gave up after ${tally.kills} kills: ${JSON.stringify(tally)}`)
    }
    // The next refresh after all of that, unkilled: it takes over whatever the last kill left at
    // once (a 60 s stale wait would outlast the lock's 30 s wait and fail).
    await seed()
    const after = await refresh().ended
    const result = resultOf(after.stdout)
    console.log(`kill refresh: ${JSON.stringify(tally)}; final refresh ${JSON.stringify(result)}`)
    expect(problems).toEqual([])
    expect(tally.kills).toBeGreaterThanOrEqual(MIN_KILLS)
    // The kills must have landed mid-refresh often enough to mean something.
    expect(tally.spent).toBeGreaterThanOrEqual(MIN_KILLS / 10)
    expect(result?.ok, after.stderr).toBe(true)
    // Owner records' temp files from kills mid-record are swept by the next holder, whatever their age.
    expect((await readdir(home.claudeDir)).filter((n) => n.includes("owner"))).toEqual([])
  }, 900_000)

  it("the next refresh after one killed while holding both locks succeeds at once, and doctor-visible state is cleared", async () => {
    await seed()
    sim.setLatency("token", 300)
    try {
      const child = refresh()
      await child.printed(`MARK ${REQUEST}:start`)
      child.kill("SIGKILL")
      await child.ended
    } finally {
      sim.setLatency("token", 0)
    }
    expect(await leftLocks()).toEqual([".oauth_refresh.lock", ".storage-write.lock"])
    expect(existsSync(join(home.claudeDir, ".oauth_refresh.lock.owner"))).toBe(true)
    // The request reached the server: the token it spent is gone. Log in again (as the user would).
    await seed()
    const next = await refresh().ended
    const result = resultOf(next.stdout)
    // Success is the proof: a lock whose owner is not proven dead goes stale only after 60 s,
    // which outlasts the refresh's 30 s wait for a lock and would fail it.
    expect(result, next.stderr).toMatchObject({ ok: true, outcome: "Refreshed" })
    expect(await leftLocks()).toEqual([])
    const names = await readdir(home.claudeDir)
    expect(names.filter((n) => n.includes("owner"))).toEqual([])
  }, 60_000)
})
