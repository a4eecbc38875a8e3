// An OAuth login kept in opencode's own auth.json, shared by many opencode
// processes at once: the real opencode 1.18.x, offline against the simulator,
// loading the built bundle as a user installs it. Each refresh token is spent
// exactly once per rotation, by one process; the others adopt what it stored.
// And a token-endpoint backoff one process learned holds for the next process.
import { readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { anthropicOAuth, type OpenCodeHome, type RunResult } from "@tollgate/conformance/OpenCode"
import type * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import { describe, expect, it } from "vitest"
import * as AccountStore from "@tollgate/requests/AccountStore"
import { expectBinaryInstalled, realOpencode, REPLY, runOpencode } from "./support/realOpencode.js"

const RUN_TIMEOUT = 90_000

const oc = realOpencode("tollgate-opencode-bundle-")

const startSim = (scenario?: string) => oc.startSim({ ttlMs: 30 * 60_000, ...(scenario ? { scenario } : {}) })

const makeHome = async (sim: Simulator.Simulator, issued: Simulator.Issued): Promise<OpenCodeHome> => {
  const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(issued) })
  // Two opencode processes creating its SQLite database at once: one fails with "database is locked"
  // (opencode's own start-up, before any plugin runs). A first run without plugins creates it; it makes no
  // request (an OAuth entry without the plugin is "API key is missing").
  const warm = await runOpencode(home, RUN_TIMEOUT, { extraArgs: ["--pure"] })
  expect(warm.text).toContain("API key is missing")
  expect(sim.log).toEqual([])
  return home
}

const run = (home: OpenCodeHome) => runOpencode(home, RUN_TIMEOUT)

// opencode's own SQLite, shared by its processes, sometimes refuses one of several concurrent runs with
// "database is locked" (its error, printed before or after the plugin was asked; nothing of tollgate's). Such a
// run is started again once; the re-run must then succeed like any other, without a token POST of its own.
let opencodeDbLocked = 0
const runDespiteOpencodeDb = async (home: OpenCodeHome) => {
  const first = await run(home)
  if (first.exitCode === 0 || !/database is locked/i.test(first.text)) return first
  opencodeDbLocked++
  return run(home)
}

const storedLogin = async (home: OpenCodeHome) => {
  const entry = (await home.readAuth())?.["anthropic"] as
    | { refresh: string; access: string; expires: number }
    | undefined
  if (entry === undefined) throw new Error("auth.json lost the anthropic entry")
  return entry
}

// The access token expired (by its `expires`, which is all opencode and the plugin look at), the refresh token kept.
const expireStoredLogin = async (home: OpenCodeHome) => {
  const auth = JSON.parse(await readFile(home.authFile, "utf8")) as Record<string, Record<string, unknown>>
  auth["anthropic"] = { ...auth["anthropic"], expires: Date.now() - 60_000 }
  await writeFile(home.authFile, JSON.stringify(auth, null, 2), { mode: 0o600 })
}

const explain = async (home: OpenCodeHome, runs: ReadonlyArray<RunResult>) =>
  `${runs.map((r, i) => `--- run ${i + 1} (exit ${r.exitCode})\n${r.text}`).join("\n")}\n--- logs\n${await home.readLogs()}`

const tokenRefreshes = (sim: Simulator.Simulator) => sim.log.filter((r) => r.route === "token")

describe("an auth.json OAuth login shared by concurrent opencode processes (real binary, offline)", () => {
  it("the real opencode binary is installed", expectBinaryInstalled)

  it(
    "5 consecutive runs under a token-endpoint 429 Retry-After 3600 make exactly 1 token POST, each run saying why",
    async () => {
      const sim = await startSim("expired-access-token")
      sim.script("token", {
        status: 429,
        headers: { "content-type": "application/json", "retry-after": "3600" },
        body: JSON.stringify({ error: { type: "rate_limit_error", message: "Rate limited. Please try again later." } }),
        times: "always"
      })
      const home = await makeHome(sim, sim.account)

      // Each run is told at once and ends by itself: the answer is in the form opencode does not retry
      // (it would otherwise sit out the hour's Retry-After).
      const runs: Array<RunResult> = []
      for (let i = 0; i < 5; i++) runs.push(await runOpencode(home, 30_000))

      const why = await explain(home, runs)
      expect(tokenRefreshes(sim), why).toHaveLength(1)
      const logs = await home.readLogs()
      for (const r of runs) {
        expect(r.timedOut, why).toBe(false)
        expect(r.exitCode, why).toBe(1)
        expect(r.text).toContain("throttling refreshes")
        expect(r.text).not.toContain(sim.account.refreshToken!)
      }
      expect(logs).not.toContain(sim.account.refreshToken!)
      // The hour is not re-armed by the later runs: the login was never refreshed, and no message went out.
      expect(
        sim.log.filter((r) => r.route === "messages"),
        why
      ).toHaveLength(0)
      expect((await storedLogin(home)).refresh).toBe(sim.account.refreshToken)
    },
    5 * 30_000 + RUN_TIMEOUT
  )

  it(
    "two runs at once on an expired login: 1 token POST, both answer, auth.json holds the rotated login",
    async () => {
      const sim = await startSim("expired-access-token")
      const home = await makeHome(sim, sim.account)

      const runs = await Promise.all([run(home), run(home)])

      const why = await explain(home, runs)
      expect(tokenRefreshes(sim), why).toHaveLength(1)
      for (const r of runs) {
        expect(r.exitCode, why).toBe(0)
        expect(r.stdout, why).toContain(REPLY)
      }
      const stored = await storedLogin(home)
      const server = sim.current()
      expect(stored.refresh).toBe(server.refreshToken)
      expect(stored.access).toBe(server.accessToken)
      for (const request of sim.log.filter((r) => r.route === "messages")) {
        expect(request.bearer).toBe(fingerprint(server.accessToken))
        expect(request.outcome).toBe(200)
      }
      // The lock is gone with its holders.
      await expect(stat(join(home.dataDir, ".tollgate-anthropic.lock"))).rejects.toThrow(/ENOENT/)
    },
    2 * RUN_TIMEOUT
  )

  it(
    "invalid_grant while another tool stored a rotated login meanwhile: the plugin re-reads auth.json and adopts it",
    async () => {
      const sim = await startSim("expired-access-token")
      // The POST is decided when it arrives; its answer (the refresh token already spent elsewhere) waits 2 s,
      // long enough for "another tool" (this test) to rotate the login and store it without our lock.
      sim.script("token", {
        status: 400,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ error: "invalid_grant", error_description: "Refresh token not found or invalid" }),
        delayMs: 2_000
      })
      const home = await makeHome(sim, sim.account)

      const running = run(home)
      const deadline = Date.now() + RUN_TIMEOUT
      while (tokenRefreshes(sim).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      const rotated = sim.rotateElsewhere()!
      await writeFile(home.authFile, JSON.stringify(anthropicOAuth(rotated), null, 2), { mode: 0o600 })
      const result = await running

      const why = await explain(home, [result])
      expect(tokenRefreshes(sim), why).toHaveLength(1)
      expect(result.exitCode, why).toBe(0)
      expect(result.stdout, why).toContain(REPLY)
      for (const request of sim.log.filter((r) => r.route === "messages")) {
        expect(request.bearer).toBe(fingerprint(rotated.accessToken))
      }
      expect((await storedLogin(home)).refresh).toBe(rotated.refreshToken)
    },
    2 * RUN_TIMEOUT
  )

  it(
    "4 processes x 10 rounds, the token expired at every round: exactly 1 token POST per rotation, every run answers",
    async () => {
      const sim = await startSim()
      const home = await makeHome(sim, sim.account)
      const ROUNDS = 10
      const PROCESSES = 4
      const failures: Array<string> = []

      for (let round = 1; round <= ROUNDS; round++) {
        await expireStoredLogin(home)
        const spent = (await storedLogin(home)).refresh
        const runs = await Promise.all(Array.from({ length: PROCESSES }, () => runDespiteOpencodeDb(home)))

        const posts = tokenRefreshes(sim)
        if (posts.length !== round || runs.some((r) => r.exitCode !== 0 || !r.stdout.includes(REPLY))) {
          failures.push(`round ${round}: ${posts.length} token POSTs in all\n${await explain(home, runs)}`)
          break
        }
        // The one POST of this round spent the refresh token the round started with, and it was the current one.
        expect(posts[round - 1]?.body.refreshToken).toBe(fingerprint(spent))
        expect(posts[round - 1]?.outcome).toBe(200)
        const stored = await storedLogin(home)
        expect(stored.refresh).toBe(sim.current().refreshToken)
        expect(stored.expires).toBeGreaterThan(Date.now())
      }

      console.log(
        `4 x ${ROUNDS}: ${tokenRefreshes(sim).length} token POSTs; runs started again after opencode's own "database is locked": ${opencodeDbLocked}`
      )
      expect(failures).toEqual([])
      expect(tokenRefreshes(sim)).toHaveLength(ROUNDS)
      expect(sim.log.filter((r) => r.route === "token" && r.outcome !== 200)).toEqual([])
      // Ten rotations, one account: its shared state stays under one key, never one per refresh token.
      const state = await AccountStore.make(AccountStore.defaultPath(home.env)).read()
      const oauthKeys = [
        ...Object.keys(state.accounts),
        ...Object.keys(state.backoff).map((k) => k.split(" ")[1]!)
      ].filter((k) => k.startsWith("oauth:"))
      expect(new Set(oauthKeys).size).toBeLessThanOrEqual(1)
    },
    10 * 4 * RUN_TIMEOUT
  )
})
