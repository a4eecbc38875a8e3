// Claude Code's refresh lock taken by tollgate: mutual exclusion in one process and across processes,
// stale takeover (including a SIGKILL'd holder), heartbeat, and release however the work ends.
import { readFileSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as RefreshLock from "../src/RefreshLock.js"
import * as StoreLocation from "../src/StoreLocation.js"
import {
  tempStore,
  exists,
  leftovers,
  nothingLeft,
  now,
  ageDir,
  realSleep,
  exclusive,
  spawnHarness,
  exited,
  printed
} from "./support/refreshLock.js"

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
