// Runs killed at random leave nothing of tollgate's behind (issue 12, row 10):
// the real opencode 1.18.x, offline against the simulator, 20 `opencode run`
// processes, several at once, each killed (the whole process group) at a random
// moment of its life, most with SIGKILL, some with SIGTERM; then one clean run.
//
// What counts as a leftover, checked in the whole temp HOME (every XDG dir,
// TMPDIR, the project) once no opencode process runs any more:
// - a lock directory: any directory named `*.lock` (tollgate's mkdir locks:
//   `opencode-accounts.json.lock`, and any lock another module adds, e.g. one
//   beside opencode's `auth.json`). No process runs, so every one is orphaned.
// - an owner record: any file named `*.lock.owner`. A holder killed between
//   removing its lock and removing its record legitimately leaves a record
//   naming a gone lock instance; the next holder of that lock replaces it
//   with its own and removes that on release. So a record is a leftover when
//   its lock directory is still there (an orphaned lock, counted above too),
//   or when it is the state file's (the clean run took that lock after every
//   killed run ended, so its record must be gone), or when it names a live
//   lock instance. A record of another lock that the clean run did not take
//   is listed, not failed: it names a dead process and a lock that no longer
//   exists, delays no one, and goes with that lock's next holder.
// - a temp file: any file whose name is AtomicFile's temp name
//   (`.<target>.<16 hex>.tmp`), wherever it is.
// And: the state file parses as the plugin's shape, and the clean run
// answered and recorded `verdict: "Ok"` for its account, after it started.
import { spawn } from "node:child_process"
import { lstat, readdir, readFile } from "node:fs/promises"
import { join, relative } from "node:path"
import { anthropicOAuth, type OpenCodeHome, stripAnsi } from "@tollgate/conformance/OpenCode"
import { LockOwner, ProcessIdentity } from "@tollgate/files"
import { describe, expect, it } from "vitest"
import * as AccountStore from "@tollgate/requests/AccountStore"
// The state file's decoder is internal to @tollgate/requests (no public subpath); this end-to-end test checks the file
// the real opencode left with the very decoder the request path reads it with.
import * as AccountState from "../../requests/src/internal/accountState.js"
import { binary, expectBinaryInstalled, inOwnGroup, realOpencode, REPLY, runOpencode } from "./support/realOpencode.js"

const RUN_TIMEOUT = 60_000
const RUNS = 20
const AT_ONCE = 4
/** A SIGTERMed run that has not exited after this is SIGKILLed (its group). */
const TERM_GRACE_MS = 5_000

const oc = realOpencode("tollgate-opencode-bundle-")

const killGroup = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false // the group is gone
  }
}

interface Killed {
  readonly signal: NodeJS.Signals
  readonly afterMs: number
  /** Still running when the signal was sent (else it ended on its own first). */
  readonly killedAlive: boolean
  readonly exitCode: number | null
  readonly exitSignal: NodeJS.Signals | null
}

/** `opencode run` in its own process group, which gets `signal` after `afterMs`. */
const runKilled = (home: OpenCodeHome, afterMs: number, signal: NodeJS.Signals) =>
  new Promise<Killed>((resolve, reject) => {
    const child = spawn(binary!, ["run", "--title", "t", "hi"], inOwnGroup(home, ["ignore", "ignore", "ignore"]))
    const pid = child.pid!
    let ended = false
    let killedAlive = false
    let grace: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      killedAlive = !ended && killGroup(pid, signal)
      if (signal !== "SIGKILL") grace = setTimeout(() => killGroup(pid, "SIGKILL"), TERM_GRACE_MS)
    }, afterMs)
    const backstop = setTimeout(() => killGroup(pid, "SIGKILL"), RUN_TIMEOUT)
    child.once("error", reject)
    child.once("exit", (exitCode, exitSignal) => {
      ended = true
      clearTimeout(timer)
      clearTimeout(grace)
      clearTimeout(backstop)
      // Anything the run started dies with it, as when a terminal closes.
      killGroup(pid, "SIGKILL")
      resolve({ signal, afterMs, killedAlive, exitCode, exitSignal })
    })
  })

interface Found {
  readonly locks: Array<string>
  readonly owners: Array<string>
  readonly temps: Array<string>
}

const ATOMIC_TEMP = /^\..+\.[0-9a-f]{16}\.tmp$/

/** Every lock directory, owner record and AtomicFile temp file under `root`. */
const scan = async (root: string): Promise<Found> => {
  const found: Found = { locks: [], owners: [], temps: [] }
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (entry.name.endsWith(".lock")) {
          const stat = await lstat(path).catch(() => null)
          const age = stat === null ? "gone" : `${Math.round(Date.now() - stat.mtimeMs)}ms since touched`
          found.locks.push(`${relative(root, path)} (${age})`)
        }
        if (entry.name !== "node_modules") await walk(path)
      } else {
        if (entry.name.endsWith(".lock.owner")) found.owners.push(relative(root, path))
        if (ATOMIC_TEMP.test(entry.name)) found.temps.push(relative(root, path))
      }
    }
  }
  await walk(root)
  return found
}

// Reproducible randomness: the seed is printed; KILLED_SEED=<n> replays a run's plan.
const SEED = Number(process.env["KILLED_SEED"] ?? Math.floor(Math.random() * 2 ** 31))
const random = (() => {
  let a = SEED >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
})()

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false
  )

describe("opencode runs killed at random (real binary, offline)", () => {
  it(
    `${RUNS} runs killed at random moments leave no tollgate lock or temp file; the next clean run succeeds and records its state`,
    async () => {
      expectBinaryInstalled()
      const sim = await oc.startSim({ ttlMs: 600_000 })
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(sim.account) })
      const statePath = AccountStore.defaultPath(home.env)
      // A slower answer: more of each run's life is a request in flight, not only start-up.
      sim.setLatency("messages", 1_000)

      // One whole run alone first: opencode's first start migrates its database, and several
      // first starts at once race on that (opencode's own "Failed query: CREATE TABLE").
      const alone = await runOpencode(home, RUN_TIMEOUT)
      expect(alone.exitCode, `${alone.text}\n${await home.readLogs()}`).toBe(0)
      // Then whole runs as many at once as the killed ones will be: how long a run lives
      // here under that load, so the kills spread over all of it.
      const whole = await Promise.all(Array.from({ length: AT_ONCE }, () => runOpencode(home, RUN_TIMEOUT)))
      for (const run of whole) expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
      const lifeMs = Math.max(...whole.map((run) => run.durationMs))
      const servedBefore = sim.count("messages")

      // Each run gets a random moment within a whole run's life; every fourth a SIGTERM.
      const plan = Array.from({ length: RUNS }, (_, i) => ({
        afterMs: Math.round(random() * lifeMs),
        signal: (i % 4 === 3 ? "SIGTERM" : "SIGKILL") as NodeJS.Signals
      }))
      const results: Array<Killed> = []
      const between: Array<Found> = []
      for (let i = 0; i < RUNS; i += AT_ONCE) {
        results.push(
          ...(await Promise.all(plan.slice(i, i + AT_ONCE).map((p) => runKilled(home, p.afterMs, p.signal))))
        )
        between.push(await scan(home.home))
      }
      const killed = results.filter((r) => r.killedAlive).length
      const leftBetween = between.reduce((n, f) => n + f.locks.length + f.temps.length, 0)
      console.info(
        `killed.opencode: seed ${SEED}; run life ${lifeMs} ms; ${killed}/${RUNS} killed while running ` +
          `(${results.filter((r) => r.killedAlive && r.signal === "SIGTERM").length} by SIGTERM); ` +
          `SIGTERMed runs ended by ${JSON.stringify(results.filter((r) => r.killedAlive && r.signal === "SIGTERM").map((r) => r.exitSignal ?? r.exitCode))}; ` +
          `messages served to killed runs ${sim.count("messages") - servedBefore}; locks/temps seen after a batch, before the clean run: ${leftBetween} ` +
          JSON.stringify(between.filter((f) => f.locks.length + f.temps.length + f.owners.length > 0))
      )
      // Most runs were killed while running, not after they ended on their own.
      expect(killed).toBeGreaterThanOrEqual(RUNS / 2)
      // The plugin's SIGTERM listener releases and re-raises: a SIGTERM still ends opencode, by SIGTERM.
      for (const run of results.filter((r) => r.killedAlive && r.signal === "SIGTERM")) {
        expect.soft(run.exitSignal, JSON.stringify(run)).toBe("SIGTERM")
      }

      const cleanStarted = Date.now()
      const clean = await runOpencode(home, RUN_TIMEOUT)
      expect(clean.exitCode, `${clean.text}\n${await home.readLogs()}`).toBe(0)
      expect(stripAnsi(clean.stdout)).toContain(REPLY)

      const after = await scan(home.home)
      const detail = JSON.stringify(after)
      expect.soft(after.locks, detail).toEqual([])
      expect.soft(after.temps, detail).toEqual([])
      const stateOwner = relative(home.home, `${statePath}.lock.owner`)
      expect.soft(after.owners, detail).not.toContain(stateOwner)
      for (const owner of after.owners) {
        // A record whose lock is gone and whose holder is dead (see the top of the file).
        expect.soft(await exists(join(home.home, owner.slice(0, -".owner".length))), owner).toBe(false)
        const record = LockOwner.parse(await readFile(join(home.home, owner), "utf8"))
        expect.soft(record === null ? null : ProcessIdentity.alive(record), owner).toBe(false)
      }
      if (after.owners.length > 0) console.info(`killed.opencode: records of gone locks: ${after.owners.join(", ")}`)

      // The state file parses as the plugin's shape, and holds the clean run's success.
      const text = await readFile(statePath, "utf8")
      const parsed: unknown = JSON.parse(text)
      const file = AccountState.decode(parsed)
      expect.soft(file).toEqual(parsed)
      const entries = Object.values(file.accounts)
      expect.soft(entries).toHaveLength(1)
      expect.soft(entries[0]).toMatchObject({ verdict: "Ok", skipUntil: null })
      expect.soft(entries[0]!.updatedAt).toBeGreaterThanOrEqual(cleanStarted)
      // The state directory holds the state file and nothing else of ours.
      expect.soft(await readdir(join(statePath, ".."))).toEqual(["opencode-accounts.json"])
    },
    // 1 + 1 + 5 batches + 1 runs at once, each bounded by RUN_TIMEOUT (a SIGTERMed one by its grace).
    8 * RUN_TIMEOUT + 30_000
  )
})
