// Claude Code's refresh locks, taken by tollgate: mutual exclusion in one process and across
// processes, stale takeover (including a SIGKILL'd holder), heartbeat, release however the work
// ends, and interop with the real Claude Code 2.1.330 through the simulator's MITM proxy.
import { createRequire } from "node:module"
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import * as fs from "node:fs/promises"
import type * as http from "node:http"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { claudeAuthStatus, makeTempHome } from "@tollgate/conformance/ClaudeCode"
import { startMitm } from "@tollgate/conformance/Mitm"
import * as Simulator from "@tollgate/conformance/Simulator"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as RefreshLock from "../src/RefreshLock.js"
import * as StoreLocation from "../src/StoreLocation.js"

const tsx = createRequire(import.meta.url).resolve("tsx/esm")
const harness = fileURLToPath(new URL("./RefreshLock.harness.ts", import.meta.url))

interface Store {
  readonly location: StoreLocation.Location
  readonly lock: string
  readonly legacy: string
  readonly owner: string
  readonly storageWrite: string
}

const storeAt = (configDir: string, home = configDir): Effect.Effect<Store> =>
  Effect.promise(async () => {
    const location = StoreLocation.resolve({ HOME: home, CLAUDE_CONFIG_DIR: configDir })
    return {
      location,
      lock: path.join(location.configDir, ".oauth_refresh.lock"),
      legacy: `${await fs.realpath(location.configDir)}.lock`,
      owner: path.join(location.configDir, ".oauth_refresh.lock.owner"),
      storageWrite: path.join(location.configDir, ".storage-write.lock")
    }
  })

/** A config dir in a fresh temp directory (never the real HOME), removed when the test's scope closes. */
const tempStore = Effect.acquireRelease(
  Effect.promise(async () => {
    const root = await fs.mkdtemp(path.join(tmpdir(), "tollgate-lock-"))
    await fs.mkdir(path.join(root, ".claude"), { mode: 0o700 })
    return root
  }),
  (root) => Effect.promise(() => fs.rm(root, { recursive: true, force: true }))
).pipe(Effect.flatMap((root) => storeAt(path.join(root, ".claude"), root)))

const exists = (p: string) =>
  Effect.promise(() =>
    fs.lstat(p).then(
      () => true,
      () => false
    )
  )
const leftovers = (store: Store) =>
  Effect.all({
    lock: exists(store.lock),
    legacy: exists(store.legacy),
    owner: exists(store.owner),
    storageWrite: exists(store.storageWrite),
    tmp: Effect.promise(() => fs.readdir(store.location.configDir)).pipe(
      Effect.map((names) => names.filter((n) => n.includes(".tmp.")))
    )
  })
const nothingLeft = { lock: false, legacy: false, owner: false, storageWrite: false, tmp: [] }

const now = Effect.sync(() => Date.now())
const ageDir = (p: string, ageMs: number) =>
  Effect.promise(() => fs.utimes(p, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs)))
const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Runs work inside the lock, failing the test if two holders are ever inside at once. */
const exclusive = () => {
  let inside = 0
  let most = 0
  let done = 0
  return {
    stats: () => ({ most, done }),
    body: (ms: number) =>
      Effect.acquireUseRelease(
        Effect.sync(() => (most = Math.max(most, ++inside))),
        () => Effect.sleep(ms),
        () =>
          Effect.sync(() => {
            inside--
            done++
          })
      )
  }
}

const spawnHarness = (args: ReadonlyArray<string>): ChildProcess =>
  spawn(process.execPath, ["--import", tsx, harness, ...args], { stdio: ["ignore", "pipe", "pipe"] })

const exited = (child: ChildProcess) =>
  Effect.async<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resume) => {
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("exit", (code, signal) => resume(Effect.succeed({ code, signal, stderr })))
  })

const printed = (child: ChildProcess, text: string) =>
  Effect.async<void>((resume) => {
    let out = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes(text)) resume(Effect.void)
    })
  })

describe("withRefreshLock", () => {
  it.scopedLive("takes both locks and an owner record in Claude Code's format, and removes them all after", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const seen = yield* RefreshLock.withRefreshLock(store.location)(
        Effect.gen(function* () {
          const [lock, legacy, ownerStat] = yield* Effect.promise(() =>
            Promise.all([fs.lstat(store.lock), fs.lstat(store.legacy), fs.stat(store.owner)])
          )
          const text = yield* Effect.promise(() => fs.readFile(store.owner, "utf8"))
          return {
            lock,
            legacy,
            ownerMode: ownerStat.mode & 0o777,
            text,
            state: yield* RefreshLock.inspect(store.location)
          }
        })
      )
      expect(seen.lock.isDirectory() && seen.legacy.isDirectory()).toBe(true)
      expect(seen.ownerMode).toBe(0o644)
      const owner = JSON.parse(seen.text) as Record<string, unknown>
      expect(Object.keys(owner)).toEqual(
        process.platform === "linux"
          ? ["pid", "procStart", "pidDomain", "pidSpace", "lockBirthtimeMs", "legacyLockBirthtimeMs"]
          : ["pid", "pidDomain", "pidSpace", "lockBirthtimeMs", "legacyLockBirthtimeMs"]
      )
      expect(owner["pid"]).toBe(process.pid)
      expect(owner["lockBirthtimeMs"]).toBe(seen.lock.birthtimeMs)
      expect(owner["legacyLockBirthtimeMs"]).toBe(seen.legacy.birthtimeMs)
      if (process.platform === "linux") {
        const stat = readFileSync(`/proc/${process.pid}/stat`, "utf8")
        expect(owner["procStart"]).toBe(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19])
        expect(owner["pidDomain"]).toMatch(/^linux:[0-9a-f]*:pid:\[\d+\]$/)
        expect(owner["pidSpace"]).toMatch(/#pid:\[\d+\]$/)
      }
      expect(seen.state).toMatchObject({
        held: true,
        stale: false,
        owner: { pid: process.pid, alive: true },
        legacyHeld: true,
        storageWriteHeld: false
      })
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("8 concurrent holders in one process never overlap, and all complete", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const work = exclusive()
      yield* Effect.forEach(
        Array.from({ length: 8 }),
        () => RefreshLock.withRefreshLock(store.location, { retryMs: 5 })(work.body(15)),
        { concurrency: "unbounded", discard: true }
      )
      expect(work.stats()).toEqual({ most: 1, done: 8 })
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("holders in three separate Node processes never overlap, and all complete", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const log = path.join(path.dirname(store.location.configDir), "holders.log")
      const children = Array.from({ length: 3 }, () => spawnHarness(["count", store.location.configDir, log, "3"]))
      const results = yield* Effect.forEach(children, exited, { concurrency: "unbounded" })
      for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 })
      const lines = (yield* Effect.promise(() => fs.readFile(log, "utf8")))
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
      expect(lines).toHaveLength(18)
      // Strictly enter/exit pairs by the same process: nobody entered while another was inside.
      for (let i = 0; i < lines.length; i += 2) {
        expect([lines[i]?.[0], lines[i + 1]?.[0]]).toEqual(["enter", "exit"])
        expect(lines[i]?.[1]).toBe(lines[i + 1]?.[1])
      }
      expect(new Set(lines.map((l) => l[1])).size).toBe(3)
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("takes over a lock whose mtime is older than staleMs", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* Effect.promise(() => Promise.all([fs.mkdir(store.lock), fs.mkdir(store.legacy)]))
      const stale = yield* Effect.promise(() => fs.lstat(store.lock))
      yield* ageDir(store.lock, 5_000)
      yield* ageDir(store.legacy, 5_000)
      const started = yield* now
      const mine = yield* RefreshLock.withRefreshLock(store.location, { staleMs: 1_000, waitMs: 0 })(
        Effect.promise(() => fs.lstat(store.lock))
      )
      expect((yield* now) - started).toBeLessThan(1_000)
      // A new directory of our own, not the dead holder's with a fresh mtime.
      expect(mine.ino !== stale.ino || mine.birthtimeMs !== stale.birthtimeMs).toBe(true)
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("eight holders racing for one stale lock: exactly one takes it over at a time", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      for (let round = 0; round < 5; round++) {
        yield* Effect.promise(() => Promise.all([fs.mkdir(store.lock), fs.mkdir(store.legacy)]))
        yield* ageDir(store.lock, 5_000)
        yield* ageDir(store.legacy, 5_000)
        const work = exclusive()
        yield* Effect.forEach(
          Array.from({ length: 8 }),
          () => RefreshLock.withRefreshLock(store.location, { staleMs: 1_000, retryMs: 5 })(work.body(5)),
          { concurrency: "unbounded", discard: true }
        )
        expect(work.stats()).toEqual({ most: 1, done: 8 })
        expect(yield* leftovers(store)).toEqual(nothingLeft)
      }
    })
  )

  it.scopedLive("waits for a fresh lock, then fails with a timeout naming the holder and leaves its lock alone", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* Effect.promise(() => fs.mkdir(store.lock))
      yield* Effect.promise(() =>
        fs.writeFile(
          store.owner,
          JSON.stringify({ pid: 4242, pidDomain: "linux:elsewhere", pidSpace: "elsewhere", lockBirthtimeMs: 1 })
        )
      )
      const started = yield* now
      const error = yield* RefreshLock.withRefreshLock(store.location, { waitMs: 400, retryMs: 20 })(
        Effect.die("never entered")
      ).pipe(Effect.flip)
      expect((yield* now) - started).toBeGreaterThanOrEqual(400)
      expect(error).toBeInstanceOf(RefreshLock.LockError)
      expect(error).toMatchObject({
        _tag: "LockError",
        lock: "refresh",
        reason: "timeout",
        where: store.lock,
        holderPid: 4242
      })
      expect(error.message).toContain("process 4242 (per its owner record)")
      expect(error.message).toContain("probably Claude Code refreshing the login")
      expect(yield* exists(store.lock)).toBe(true)
      expect(yield* exists(store.legacy)).toBe(false)
      expect(yield* exists(store.owner)).toBe(true)
    })
  )

  it.scopedLive("never holds the new lock while waiting on a held legacy lock", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* Effect.promise(() => fs.mkdir(store.legacy))
      const fiber = yield* Effect.fork(
        RefreshLock.withRefreshLock(store.location, { waitMs: 600, retryMs: 40 })(Effect.void).pipe(Effect.flip)
      )
      // Sample while it waits: the new lock may flicker into existence for a try, never stay.
      let present = 0
      for (let i = 0; i < 40; i++) {
        if (yield* exists(store.lock)) present++
        yield* realSleep(10)
      }
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ reason: "timeout", where: store.legacy })
      expect(present).toBeLessThan(10)
      expect(yield* exists(store.lock)).toBe(false)
      expect(yield* exists(store.legacy)).toBe(true)
    })
  )

  it.scoped("waits the whole waitMs on Effect's Clock (default 30 s) before giving up", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* Effect.promise(() => fs.mkdir(store.lock))
      const fiber = yield* Effect.fork(RefreshLock.withRefreshLock(store.location)(Effect.void).pipe(Effect.flip))
      // Real file-system calls happen between sleeps, so advance the clock a second at a time and let them run.
      for (let second = 1; second <= 29; second++) {
        yield* TestClock.adjust("1 second")
        yield* realSleep(3)
      }
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      for (let second = 30; second <= 40 && Option.isNone(yield* Fiber.poll(fiber)); second++) {
        yield* TestClock.adjust("1 second")
        yield* realSleep(10)
      }
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ reason: "timeout", where: store.lock })
      expect(error.waitedMs).toBeGreaterThanOrEqual(30_000)
      // Slow file-system calls between clock steps can let the test clock run a second or two past 30 s.
      expect(error.waitedMs).toBeLessThanOrEqual(41_000)
      expect(error.message).toContain(`the whole ${Math.round(error.waitedMs! / 1000)} s wait`)
    })
  )

  it.scopedLive("the heartbeat keeps a long hold from looking stale to a waiter", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const options = { staleMs: 600, heartbeatMs: 100, retryMs: 20, waitMs: 10_000 }
      const mtimes = new Set<number>()
      const times = { aExit: 0, bEnter: 0 }
      const a = yield* Effect.fork(
        RefreshLock.withRefreshLock(
          store.location,
          options
        )(
          Effect.gen(function* () {
            for (let i = 0; i < 15; i++) {
              yield* realSleep(100)
              mtimes.add((yield* Effect.promise(() => fs.lstat(store.lock))).mtimeMs)
            }
            times.aExit = Date.now()
          })
        )
      )
      yield* realSleep(150)
      yield* RefreshLock.withRefreshLock(store.location, options)(Effect.sync(() => (times.bEnter = Date.now())))
      yield* Fiber.join(a)
      expect(times.aExit).toBeGreaterThan(0)
      expect(times.bEnter).toBeGreaterThanOrEqual(times.aExit)
      expect(mtimes.size).toBeGreaterThan(5)
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("releases everything when the work fails or dies", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const failed = yield* RefreshLock.withRefreshLock(store.location)(Effect.fail("boom" as const)).pipe(Effect.flip)
      expect(failed).toBe("boom")
      expect(yield* leftovers(store)).toEqual(nothingLeft)
      const died = yield* RefreshLock.withRefreshLock(store.location)(Effect.die("defect")).pipe(Effect.exit)
      expect(Exit.isFailure(died)).toBe(true)
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive(
    "releases everything when interrupted while holding, and leaves nothing when interrupted while waiting",
    () =>
      Effect.gen(function* () {
        const store = yield* tempStore
        const entered = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(
          RefreshLock.withRefreshLock(store.location)(
            Effect.zipRight(Deferred.succeed(entered, undefined), Effect.never)
          )
        )
        yield* Deferred.await(entered)
        expect(yield* exists(store.owner)).toBe(true)
        yield* Fiber.interrupt(holder)
        expect(yield* leftovers(store)).toEqual(nothingLeft)

        yield* Effect.promise(() => fs.mkdir(store.lock))
        const waiter = yield* Effect.fork(RefreshLock.withRefreshLock(store.location, { retryMs: 10 })(Effect.void))
        yield* realSleep(100)
        yield* Fiber.interrupt(waiter)
        // The other holder's lock stays; nothing of ours does.
        expect(yield* leftovers(store)).toEqual({ ...nothingLeft, lock: true })
      })
  )

  const killedHolder = (store: { readonly location: StoreLocation.Location }) =>
    Effect.gen(function* () {
      const child = spawnHarness(["hold", store.location.configDir, "100"])
      const exit = yield* Effect.fork(exited(child))
      yield* printed(child, "HELD").pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "no HELD" }))
      expect(yield* RefreshLock.inspect(store.location)).toMatchObject({
        held: true,
        owner: { pid: child.pid, alive: true },
        legacyHeld: true
      })
      child.kill("SIGKILL")
      expect(yield* Fiber.join(exit)).toMatchObject({ signal: "SIGKILL" })
      const orphan = yield* RefreshLock.inspect(store.location)
      expect(orphan).toMatchObject({ held: true, stale: false, owner: { pid: child.pid, alive: false } })
    })

  const enterAsUs = (store: { readonly location: StoreLocation.Location; readonly owner: string }) =>
    RefreshLock.withRefreshLock(store.location, { staleMs: 800, retryMs: 20, waitMs: 10_000 })(
      Effect.gen(function* () {
        const owner = JSON.parse(yield* Effect.promise(() => fs.readFile(store.owner, "utf8"))) as { pid: number }
        expect(owner.pid).toBe(process.pid)
        return Date.now()
      })
    )

  it.scopedLive(
    "a holder killed with SIGKILL: its owner record proves it dead, so its lock is taken over at once",
    () =>
      Effect.gen(function* () {
        const store = yield* tempStore
        yield* killedHolder(store)
        const lastBeat = (yield* Effect.promise(() => fs.lstat(store.lock))).mtimeMs
        const enteredAt = yield* enterAsUs(store)
        // Well before the lock could look stale (800 ms after its last heartbeat).
        expect(enteredAt - lastBeat).toBeLessThan(800)
        expect(yield* leftovers(store)).toEqual(nothingLeft)
      })
  )

  it.scopedLive("a holder killed with SIGKILL and no owner record left: its lock is taken over once stale", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* killedHolder(store)
      // Without the record nobody can prove the holder dead (killed between mkdir and the record's write).
      yield* Effect.promise(() => fs.rm(store.owner))
      const lastBeat = (yield* Effect.promise(() => fs.lstat(store.lock))).mtimeMs
      const enteredAt = yield* enterAsUs(store)
      expect(enteredAt - lastBeat).toBeGreaterThan(800)
      expect(enteredAt - lastBeat).toBeLessThan(3_000)
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("fails with io when the config directory does not exist", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const missing = StoreLocation.resolve({
        HOME: "/nowhere",
        CLAUDE_CONFIG_DIR: path.join(store.location.configDir, "missing")
      })
      const error = yield* RefreshLock.withRefreshLock(missing)(Effect.void).pipe(Effect.flip)
      expect(error).toMatchObject({ lock: "refresh", reason: "io", where: missing.configDir, detail: "ENOENT" })
      expect(error.message).toContain("[ENOENT]")
    })
  )
})

describe("withStorageWriteLock", () => {
  it.scopedLive("holds .storage-write.lock alone, exclusively, and releases it", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const work = exclusive()
      const states = yield* Effect.forEach(
        Array.from({ length: 4 }),
        () =>
          RefreshLock.withStorageWriteLock(store.location, { retryMs: 5 })(
            Effect.zipLeft(RefreshLock.inspect(store.location), work.body(10))
          ),
        { concurrency: "unbounded" }
      )
      expect(work.stats()).toEqual({ most: 1, done: 4 })
      for (const state of states) {
        expect(state).toMatchObject({ held: false, legacyHeld: false, owner: null, storageWriteHeld: true })
      }
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("takes over a storage-write lock after Claude Code's 15 s stale limit by default", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* Effect.promise(() => fs.mkdir(store.storageWrite))
      yield* ageDir(store.storageWrite, 16_000)
      yield* RefreshLock.withStorageWriteLock(store.location, { waitMs: 0 })(Effect.void)
      yield* Effect.promise(() => fs.mkdir(store.storageWrite))
      yield* ageDir(store.storageWrite, 10_000)
      const error = yield* RefreshLock.withStorageWriteLock(store.location, { waitMs: 0 })(Effect.void).pipe(
        Effect.flip
      )
      expect(error).toMatchObject({ lock: "storage-write", reason: "timeout", where: store.storageWrite })
      expect(error.message).toContain("probably Claude Code saving the login")
    })
  )
})

describe("inspect", () => {
  it.scopedLive("reports an idle store, and a stale lock whose holder cannot be seen from here", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      expect(yield* RefreshLock.inspect(store.location)).toEqual({
        held: false,
        stale: false,
        ageMs: null,
        owner: null,
        legacyHeld: false,
        storageWriteHeld: false
      })
      yield* Effect.promise(() => fs.mkdir(store.lock))
      yield* ageDir(store.lock, 90_000)
      yield* Effect.promise(() =>
        fs.writeFile(
          store.owner,
          JSON.stringify({ pid: 7, pidDomain: "linux:other:pid:[1]", pidSpace: "other", lockBirthtimeMs: 5 })
        )
      )
      const state = yield* RefreshLock.inspect(store.location)
      expect(state).toMatchObject({ held: true, stale: true, owner: { pid: 7, alive: null }, legacyHeld: false })
      expect(state.ageMs).toBeGreaterThanOrEqual(90_000)
      yield* Effect.promise(() => fs.writeFile(store.owner, JSON.stringify({ pid: 9 })))
      expect((yield* RefreshLock.inspect(store.location)).owner).toEqual({ pid: 9, alive: null })
    })
  )
})

describe("interop with Claude Code 2.1.330 (through the simulator's MITM proxy)", () => {
  const SCOPES = ["user:inference", "user:profile", "user:sessions:claude_code"]

  /** An expired store in a temp HOME, a simulator and a proxy whose token answers can be held back. */
  const claudeSetup = (tokenDelayMs: number) =>
    Effect.gen(function* () {
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => Simulator.start({ scenario: "expired-access-token", ttlMs: 120_000 })),
        (s) => Effect.promise(() => s.close())
      )
      const certs = yield* Effect.acquireRelease(
        Effect.promise(() => fs.mkdtemp(path.join(tmpdir(), "tollgate-lock-mitm-"))),
        (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
      )
      const handler: http.RequestListener = (req, res) => {
        // Holding the token answer back keeps Claude Code inside its refresh lock meanwhile.
        if (req.method === "POST" && (req.url ?? "").includes("/oauth/token") && tokenDelayMs > 0) {
          setTimeout(() => sim.listener(req, res), tokenDelayMs)
        } else sim.listener(req, res)
      }
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() => startMitm({ handler, dir: certs, ttlMs: 120_000 })),
        (p) => Effect.promise(() => p.close())
      )
      const home = yield* Effect.acquireRelease(
        Effect.promise(() => makeTempHome("tollgate-lock-claude-")),
        (h) => Effect.promise(() => h.cleanup())
      )
      const store = yield* storeAt(home.env["CLAUDE_CONFIG_DIR"] ?? home.claudeDir, home.home)
      yield* Effect.promise(() =>
        fs.writeFile(
          store.location.file,
          JSON.stringify({
            claudeAiOauth: {
              accessToken: sim.account.accessToken,
              refreshToken: sim.account.refreshToken,
              expiresAt: sim.account.expiresAt,
              scopes: SCOPES,
              subscriptionType: "max",
              rateLimitTier: "default_claude_max_20x"
            },
            mcpOAuth: {}
          }),
          { mode: 0o600 }
        )
      )
      return { sim, store, env: { ...home.env, ...proxy.env } }
    })

  it.scopedLive(
    "Claude Code honours our lock: `claude auth status` on an expired store makes no token POST",
    () =>
      Effect.gen(function* () {
        const { sim, store, env } = yield* claudeSetup(0)
        const status = yield* RefreshLock.withRefreshLock(store.location)(
          Effect.gen(function* () {
            const result = yield* Effect.promise(() => claudeAuthStatus({ env, timeoutMs: 30_000 }))
            // Our lock and record are intact after Claude Code looked at them.
            expect(yield* RefreshLock.inspect(store.location)).toMatchObject({
              held: true,
              owner: { pid: process.pid, alive: true },
              legacyHeld: true
            })
            return result
          })
        )
        expect(status.exitCode, status.stderr).toBe(0)
        expect(status.json?.["loggedIn"]).toBe(true)
        expect(sim.count("token")).toBe(0)
        expect(yield* leftovers(store)).toEqual(nothingLeft)
      }),
    60_000
  )

  it.scopedLive(
    "we honour Claude Code's lock: withRefreshLock waits until Claude Code has refreshed and released it",
    () =>
      Effect.gen(function* () {
        const { sim, store, env } = yield* claudeSetup(1_500)
        const claude = yield* Effect.fork(Effect.promise(() => claudeAuthStatus({ env, timeoutMs: 30_000 })))
        // Claude Code writes its owner record once it holds both lock directories.
        let claudeOwner: { pid: number } | undefined
        for (let i = 0; i < 1_000 && claudeOwner === undefined; i++) {
          const text = yield* Effect.promise(() => fs.readFile(store.owner, "utf8").catch(() => ""))
          if (text !== "") claudeOwner = JSON.parse(text) as { pid: number }
          else yield* realSleep(10)
        }
        expect(claudeOwner?.pid).not.toBe(process.pid)
        expect(sim.count("token")).toBeLessThanOrEqual(1)

        const inside = yield* RefreshLock.withRefreshLock(store.location, { retryMs: 20, waitMs: 20_000 })(
          Effect.gen(function* () {
            const owner = JSON.parse(yield* Effect.promise(() => fs.readFile(store.owner, "utf8"))) as { pid: number }
            const document = JSON.parse(yield* Effect.promise(() => fs.readFile(store.location.file, "utf8"))) as {
              claudeAiOauth: Record<string, unknown>
              mcpOAuth?: unknown
            }
            return { owner, document, tokenOutcomes: sim.log.filter((r) => r.route === "token").map((r) => r.outcome) }
          })
        )
        // By the time we got the lock, Claude Code had its answer and had written the store.
        expect(inside.owner.pid).toBe(process.pid)
        expect(inside.tokenOutcomes).toEqual([200])
        const issued = sim.current()
        const oauth = inside.document.claudeAiOauth
        // Booleans, not values, so a failure never prints a token.
        expect(oauth["accessToken"] === issued.accessToken, "store holds the rotated access token").toBe(true)
        expect(oauth["refreshToken"] === issued.refreshToken, "store holds the rotated refresh token").toBe(true)
        expect(oauth["scopes"]).toEqual([...issued.scopes])
        expect(inside.document.mcpOAuth).toEqual({})
        expect((yield* Effect.promise(() => fs.stat(store.location.file))).mode & 0o777).toBe(0o600)

        const status = yield* Fiber.join(claude)
        expect(status.exitCode, status.stderr).toBe(0)
        expect(sim.count("token")).toBe(1)
        expect(yield* leftovers(store)).toEqual(nothingLeft)
      }),
    60_000
  )
})
