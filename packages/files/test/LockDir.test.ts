import { spawn, spawnSync } from "node:child_process"
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { AtomicFile, LockDir, LockOwner, ProcessIdentity } from "../src/index.js"
import { scratch } from "./helpers.js"

/** A pid that provably existed and has exited. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", "0"]).pid!

const plantRecord = (lock: string, pid: number, birthtimeMs = statSync(lock).birthtimeMs) =>
  writeFileSync(`${lock}.owner`, JSON.stringify({ ...ProcessIdentity.self(), pid, lockBirthtimeMs: birthtimeMs }))

const timed = async <A>(f: () => Promise<A>): Promise<{ value: A; ms: number }> => {
  const started = performance.now()
  const value = await f()
  return { value, ms: performance.now() - started }
}

// Birth times are what tie a record to one lock instance; without them (some file systems) there is no early takeover.
const hasBirthtimes = statSync(scratch()).birthtimeMs > 0

describe("LockDir.acquire", () => {
  it("makes the directory 0700 with an owner record in Claude Code's format, and release removes both", async () => {
    const dir = scratch()
    const path = join(dir, "state.json.lock")
    const lock = await LockDir.acquire(path)
    expect(statSync(path).isDirectory()).toBe(true)
    expect(statSync(path).mode & 0o777).toBe(0o700)
    if (hasBirthtimes) {
      const record = JSON.parse(readFileSync(`${path}.owner`, "utf8"))
      expect(Object.keys(record)).toEqual([
        "pid",
        ...(process.platform === "linux" ? ["procStart"] : []),
        "pidDomain",
        "pidSpace",
        "lockBirthtimeMs"
      ])
      expect(record).toMatchObject({ pid: process.pid, lockBirthtimeMs: lock.held.birthtimeMs })
    }
    await lock.release()
    await lock.release()
    expect(readdirSync(dir)).toEqual([])
  })

  it("waits while another holder has it, and fails with LockBusy when the wait runs out", async () => {
    const path = join(scratch(), "a.lock")
    const first = await LockDir.acquire(path)
    const busy = await timed(() => LockDir.acquire(path, { waitMs: 300, retryMs: 10 }).catch((e: unknown) => e))
    expect(busy.value).toBeInstanceOf(LockDir.LockBusy)
    expect(busy.value).toMatchObject({ _tag: "LockBusy", path })
    expect(busy.ms).toBeGreaterThanOrEqual(290)
    setTimeout(() => void first.release(), 100)
    const second = await timed(() => LockDir.acquire(path, { waitMs: 5_000, retryMs: 10 }))
    expect(second.ms).toBeGreaterThanOrEqual(80)
    expect(second.ms).toBeLessThan(2_000)
    await second.value.release()
  })

  it("holders never overlap, in order of nobody in particular, and all complete", async () => {
    const path = join(scratch(), "b.lock")
    let inside = 0
    let most = 0
    await Promise.all(
      Array.from({ length: 12 }, () =>
        LockDir.withLock(
          path,
          async () => {
            inside++
            most = Math.max(most, inside)
            await new Promise((r) => setTimeout(r, 5))
            inside--
          },
          { retryMs: 5 }
        )
      )
    )
    expect(most).toBe(1)
    expect(existsSync(path)).toBe(false)
  })

  it.runIf(hasBirthtimes)("takes over at once a lock whose owner record names a dead process", async () => {
    const path = join(scratch(), "c.lock")
    mkdirSync(path)
    plantRecord(path, deadPid())
    const { value: lock, ms } = await timed(() => LockDir.acquire(path, { staleMs: 60_000, waitMs: 5_000 }))
    expect(ms).toBeLessThan(1_000)
    expect(JSON.parse(readFileSync(`${path}.owner`, "utf8"))).toMatchObject({
      pid: process.pid,
      lockBirthtimeMs: lock.held.birthtimeMs
    })
    await lock.release()
  })

  it.runIf(hasBirthtimes)("never takes over early for a live owner or a record of another lock instance", async () => {
    const dir = scratch()
    const live = join(dir, "live.lock")
    mkdirSync(live)
    plantRecord(live, process.pid)
    await expect(LockDir.acquire(live, { staleMs: 60_000, waitMs: 200, retryMs: 10 })).rejects.toBeInstanceOf(
      LockDir.LockBusy
    )
    const other = join(dir, "other.lock")
    mkdirSync(other)
    plantRecord(other, deadPid(), statSync(other).birthtimeMs - 1)
    await expect(LockDir.acquire(other, { staleMs: 60_000, waitMs: 200, retryMs: 10 })).rejects.toBeInstanceOf(
      LockDir.LockBusy
    )
  })

  it("takes a lock without an owner record only once it is stale", async () => {
    const path = join(scratch(), "d.lock")
    mkdirSync(path)
    const { value: lock, ms } = await timed(() => LockDir.acquire(path, { staleMs: 500, waitMs: 5_000, retryMs: 20 }))
    // mtime resolution and the jittered retry make it a little late, never early.
    expect(ms).toBeGreaterThanOrEqual(450)
    expect(ms).toBeLessThan(2_000)
    await lock.release()
    mkdirSync(path)
    const old = new Date(Date.now() - 60_000)
    utimesSync(path, old, old)
    expect((await timed(() => LockDir.acquire(path, { staleMs: 10_000 }))).ms).toBeLessThan(1_000)
  })

  it("the heartbeat keeps a long hold from looking stale", async () => {
    const path = join(scratch(), "e.lock")
    const holder = await LockDir.acquire(path, { staleMs: 300, heartbeatMs: 50, ownerFile: null })
    await expect(LockDir.acquire(path, { staleMs: 300, waitMs: 900, retryMs: 20 })).rejects.toBeInstanceOf(
      LockDir.LockBusy
    )
    await holder.release()
    expect(existsSync(path)).toBe(false)
  })

  it("a holder whose lock was taken over leaves its successor's lock and record alone", async () => {
    const path = join(scratch(), "f.lock")
    const first = await LockDir.acquire(path)
    rmdirSync(path)
    const second = await LockDir.acquire(path)
    expect(await LockDir.release(first.held)).toBe("taken-over")
    await first.release()
    expect(existsSync(path)).toBe(true)
    if (hasBirthtimes)
      expect(LockOwner.parse(readFileSync(`${path}.owner`, "utf8"))?.lockBirthtimeMs).toBe(second.held.birthtimeMs)
    await second.release()
    expect(existsSync(path)).toBe(false)
  })

  it.runIf(hasBirthtimes)(
    "a holder in another process killed with SIGKILL: its lock is taken over at once",
    async () => {
      const dir = scratch()
      const path = join(dir, "g.lock")
      const module = new URL("../src/LockDir.ts", import.meta.url).pathname
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "-e",
          `import(${JSON.stringify(module)}).then(async (L) => { await L.acquire(${JSON.stringify(path)}); console.log("held"); setInterval(() => {}, 1000) })`
        ],
        { stdio: ["ignore", "pipe", "inherit"] }
      )
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("held") && resolve())
        child.on("exit", (code) => reject(new Error(`holder exited ${code}`)))
      })
      child.kill("SIGKILL")
      await new Promise((r) => child.once("exit", r))
      expect(existsSync(path)).toBe(true)
      const { value: lock, ms } = await timed(() => LockDir.acquire(path, { staleMs: 60_000, waitMs: 5_000 }))
      expect(ms).toBeLessThan(1_000)
      await lock.release()
      expect(readdirSync(dir)).toEqual([])
    }
  )
})

describe("LockOwner and ProcessIdentity", () => {
  it("tells a live process, a dead one, and one from another namespace apart", () => {
    expect(ProcessIdentity.alive(ProcessIdentity.self())).toBe(true)
    expect(ProcessIdentity.alive({ ...ProcessIdentity.self(), pid: deadPid() })).toBe(false)
    expect(ProcessIdentity.alive({ ...ProcessIdentity.self(), pidSpace: "elsewhere" })).toBe(null)
    if (process.platform === "linux") {
      // Our pid, reused by "another" process with a different start time.
      expect(ProcessIdentity.alive({ ...ProcessIdentity.self(), procStart: "1" })).toBe(false)
    }
  })

  it("parses records as Claude Code's schema does", () => {
    const good = { pid: 12, pidDomain: "d", pidSpace: "s", lockBirthtimeMs: 5, extra: true }
    expect(LockOwner.parse(JSON.stringify(good))).toEqual(good)
    expect(LockOwner.parse(JSON.stringify({ ...good, pid: 1.5 }))).toBe(null)
    expect(LockOwner.parse(JSON.stringify({ ...good, lockBirthtimeMs: 0 }))).toBe(null)
    expect(LockOwner.parse(JSON.stringify({ ...good, procStart: "x".repeat(65) }))).toBe(null)
    expect(LockOwner.parse(JSON.stringify({ ...good, pidSpace: 7 }))).toBe(null)
    expect(LockOwner.parse("{nope")).toBe(null)
  })

  it("removeIfOurs keeps a record that names another instance or process", async () => {
    const file = join(scratch(), "x.owner")
    await LockOwner.write(file, LockOwner.recordFor(100))
    await LockOwner.removeIfOurs(file, 101)
    expect(existsSync(file)).toBe(true)
    await LockOwner.removeIfOurs(file, 100)
    expect(existsSync(file)).toBe(false)
  })

  it("removeIfOursSync removes only our record, and is quiet about a missing one", async () => {
    const file = join(scratch(), "x.owner")
    await LockOwner.write(file, { ...LockOwner.recordFor(100), pid: process.pid + 1 })
    LockOwner.removeIfOursSync(file, 100)
    expect(existsSync(file)).toBe(true)
    await LockOwner.write(file, LockOwner.recordFor(100))
    LockOwner.removeIfOursSync(file, 101)
    expect(existsSync(file)).toBe(true)
    LockOwner.removeIfOursSync(file, 100)
    expect(existsSync(file)).toBe(false)
    expect(() => LockOwner.removeIfOursSync(file, 100)).not.toThrow()
  })
})

describe("LockDir at exit, synchronously", () => {
  it("finishAndReleaseSync finishes and removes our instance, and reports a lock that is gone", async () => {
    const path = join(scratch(), "state.json.lock")
    const lock = await LockDir.acquire(path, { ownerFile: null })
    const finished: Array<boolean> = []
    expect(LockDir.finishAndReleaseSync(lock.held, () => finished.push(existsSync(path)))).toBe("released")
    expect(finished).toEqual([true])
    expect(existsSync(path)).toBe(false)
    expect(LockDir.finishAndReleaseSync(lock.held, () => finished.push(false))).toBe("gone")
    expect(finished).toEqual([true])
    await lock.release()
  })

  it("finishAndReleaseSync leaves a successor's lock alone and does not finish", async () => {
    const path = join(scratch(), "state.json.lock")
    const lock = await LockDir.acquire(path, { ownerFile: null })
    // Someone judged ours stale and made their own instance in its place.
    rmdirSync(path)
    const successor = await LockDir.acquire(path, { ownerFile: null })
    let finished = false
    expect(LockDir.finishAndReleaseSync(lock.held, () => (finished = true))).toBe("taken-over")
    expect(finished).toBe(false)
    expect(existsSync(path)).toBe(true)
    await successor.release()
    await lock.release()
  })

  it("withFreeLockSync takes a free lock for the finish and removes it, and never takes a held one", async () => {
    const path = join(scratch(), "state.json.lock")
    const seen: Array<boolean> = []
    expect(LockDir.withFreeLockSync(path, () => seen.push(statSync(path).isDirectory()))).toBe(true)
    expect(seen).toEqual([true])
    expect(existsSync(path)).toBe(false)
    const held = await LockDir.acquire(path, { ownerFile: null })
    expect(LockDir.withFreeLockSync(path, () => seen.push(false))).toBe(false)
    expect(seen).toEqual([true])
    expect(existsSync(path)).toBe(true)
    await held.release()
  })

  it("takeFreeSync holds a free lock on return, records its owner when asked, and never takes a held one", async () => {
    const dir = scratch()
    const path = join(dir, "state.json.lock")
    const lock = LockDir.takeFreeSync(path, { heartbeatMs: 5 })
    if (lock === null) throw new Error("a free lock was not taken")
    // Held the moment the call returns: the directory, 0700, ours.
    expect(statSync(path).mode & 0o777).toBe(0o700)
    expect(statSync(path).ino).toBe(lock.held.ino)
    expect(existsSync(`${path}.owner`)).toBe(false)
    await lock.recordOwner()
    if (hasBirthtimes) {
      expect(JSON.parse(readFileSync(`${path}.owner`, "utf8"))).toMatchObject({
        pid: process.pid,
        lockBirthtimeMs: lock.held.birthtimeMs
      })
    }
    // Its heartbeat runs like acquire's.
    utimesSync(path, new Date(0), new Date(0))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(statSync(path).mtimeMs).toBeGreaterThan(0)
    // Held (or stale, or abandoned): never taken by a plain mkdir; acquire deals with those.
    expect(LockDir.takeFreeSync(path)).toBeNull()
    await lock.release()
    expect(readdirSync(dir)).toEqual([])
  })
})

describe("AtomicFile.sweepTemps", () => {
  it("removes only the target's own temp files", async () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    const mine = AtomicFile.tempPathFor(target)
    writeFileSync(mine, "half")
    mkdirSync(AtomicFile.tempPathFor(target))
    writeFileSync(AtomicFile.tempPathFor(join(dir, "other.json")), "x")
    writeFileSync(join(dir, ".state.json.nothex0000000000.tmp"), "x")
    writeFileSync(target, "{}")
    expect(await AtomicFile.sweepTemps(target)).toBe(1)
    expect(existsSync(mine)).toBe(false)
    expect(readdirSync(dir)).toHaveLength(4)
    expect(await AtomicFile.sweepTemps(join(dir, "missing", "x.json"))).toBe(0)
  })
})
