/**
 * One daemon per user: the lock file, stale sockets and stale locks.
 */
import { createRequire } from "node:module"
import { spawn, type ChildProcess } from "node:child_process"
import { once } from "node:events"
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as Server from "../src/Server.js"
import * as SingleInstance from "../src/SingleInstance.js"

let root = ""
let paths = { socket: "" }
let lockPath = ""
const children: Array<ChildProcess> = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tollgate-single-"))
  paths = { socket: join(root, "run", "daemon.sock") }
  lockPath = join(root, "run", SingleInstance.LOCK_FILE)
})
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL")
  await rm(root, { recursive: true, force: true })
})

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false
  )

/** A live process that is not a daemon (or, by its command line, looks like one). */
const sleeper = (args: ReadonlyArray<string> = []): ChildProcess => {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)", ...args], { stdio: "ignore" })
  children.push(child)
  return child
}

/** The pid of a process that has exited. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" })
  await once(child, "exit")
  return child.pid!
}

const isLock = (lock: SingleInstance.Lock | SingleInstance.Running): lock is SingleInstance.Lock => "release" in lock

describe("SingleInstance", () => {
  it("a second acquire while the first holds the lock says who is running; release removes the lock and the socket", async () => {
    const first = await SingleInstance.acquire(paths)
    if (!isLock(first)) throw new Error("expected the lock")
    expect((await readFile(lockPath, "utf8")).trim()).toBe(String(process.pid))
    expect((await stat(lockPath)).mode & 0o777).toBe(0o600)
    expect((await stat(join(root, "run"))).mode & 0o777).toBe(0o700)

    // Before the server is up: the lock alone answers.
    expect(await SingleInstance.acquire(paths)).toEqual({ running: true, pid: process.pid })

    const server = await Server.start({
      socketPath: paths.socket,
      handle: async () => ({ v: 1, ok: true, op: "pong", pid: process.pid })
    })
    expect(await SingleInstance.acquire(paths)).toEqual({ running: true, pid: process.pid })
    expect(await SingleInstance.ping(paths.socket, 300)).toEqual({ pid: process.pid })

    // Release removes the socket too, even when the server's close() never ran.
    await first.release()
    expect(await exists(paths.socket)).toBe(false)
    expect(await exists(lockPath)).toBe(false)
    await server.close()
    await first.release()

    const again = await SingleInstance.acquire(paths)
    expect(isLock(again)).toBe(true)
    if (isLock(again)) await again.release()
    expect(await readdir(join(root, "run"))).toEqual([])
  })

  it("a lock held by another live process means running with that pid", async () => {
    const other = sleeper()
    await mkdir(join(root, "run"), { mode: 0o700 })
    await writeFile(lockPath, `${other.pid}\n`)
    expect(await SingleInstance.acquire(paths)).toEqual({ running: true, pid: other.pid })
    expect((await readFile(lockPath, "utf8")).trim()).toBe(String(other.pid))
  })

  it("a lock whose pid is dead is replaced", async () => {
    await mkdir(join(root, "run"), { mode: 0o700 })
    await writeFile(lockPath, `${await deadPid()}\n`)
    const lock = await SingleInstance.acquire(paths)
    expect(isLock(lock)).toBe(true)
    expect((await readFile(lockPath, "utf8")).trim()).toBe(String(process.pid))
    if (isLock(lock)) await lock.release()
    expect(await exists(lockPath)).toBe(false)
  })

  it("a garbage lock, or a live pid that has not answered for longer than the start-up grace, is replaced", async () => {
    await mkdir(join(root, "run"), { mode: 0o700 })
    await writeFile(lockPath, "not a pid")
    const first = await SingleInstance.acquire(paths)
    expect(isLock(first)).toBe(true)
    if (isLock(first)) await first.release()

    const reused = sleeper()
    await writeFile(lockPath, `${reused.pid}\n`)
    const old = (Date.now() - SingleInstance.STARTUP_GRACE_MS - 5_000) / 1000
    await utimes(lockPath, old, old)
    const second = await SingleInstance.acquire(paths)
    expect(isLock(second)).toBe(true)
    expect((await readFile(lockPath, "utf8")).trim()).toBe(String(process.pid))
    if (isLock(second)) await second.release()
  })

  // Where /proc cannot say, a patient unanswered ping decides instead (not exercised here).
  it.skipIf(process.platform !== "linux")(
    "an old lock whose live owner runs `daemon run` is never taken over",
    async () => {
      const daemonLike = sleeper(["daemon", "run"])
      await mkdir(join(root, "run"), { mode: 0o700 })
      await writeFile(lockPath, `${daemonLike.pid}\n`)
      const old = (Date.now() - SingleInstance.STARTUP_GRACE_MS - 5_000) / 1000
      await utimes(lockPath, old, old)
      expect(await SingleInstance.acquire(paths)).toEqual({ running: true, pid: daemonLike.pid })
    }
  )

  it("a stale socket (a plain file, or a socket nobody listens on) is removed", async () => {
    await mkdir(join(root, "run"), { mode: 0o700 })
    await writeFile(paths.socket, "")
    const first = await SingleInstance.acquire(paths)
    expect(isLock(first)).toBe(true)
    expect(await exists(paths.socket)).toBe(false)
    if (isLock(first)) await first.release()

    // A real socket file whose listener is gone without unlinking it (as after SIGKILL).
    const listener = createServer()
    await new Promise<void>((resolve) => listener.listen(paths.socket, resolve))
    const { link } = await import("node:fs/promises")
    await link(paths.socket, `${paths.socket}.keep`)
    await new Promise<void>((resolve) => listener.close(() => resolve()))
    await link(`${paths.socket}.keep`, paths.socket)
    expect((await stat(paths.socket)).isSocket()).toBe(true)
    expect(await SingleInstance.ping(paths.socket, 300)).toBeNull()
    const second = await SingleInstance.acquire(paths)
    expect(isLock(second)).toBe(true)
    expect(await exists(paths.socket)).toBe(false)
    if (isLock(second)) await second.release()
  })

  it("a daemon that answers without holding the lock is still respected", async () => {
    const server = await Server.start({
      socketPath: paths.socket,
      handle: async () => ({ v: 1, ok: true, op: "pong", pid: 4242 })
    })
    try {
      expect(await SingleInstance.acquire(paths)).toEqual({ running: true, pid: 4242 })
      expect(await exists(lockPath)).toBe(false)
      expect(await SingleInstance.ping(paths.socket, 300)).toEqual({ pid: 4242 })
    } finally {
      await server.close()
    }
  })

  it("of two daemons starting at once, exactly one gets the lock", async () => {
    const results = await Promise.all(
      Array.from(
        { length: 2 },
        (_, i) =>
          new Promise<string>((resolve, reject) => {
            const script = `
            const SingleInstance = await import(${JSON.stringify(new URL("../src/SingleInstance.ts", import.meta.url).href)})
            const result = await SingleInstance.acquire({ socket: ${JSON.stringify(paths.socket)} })
            process.stdout.write("release" in result ? "lock" : "running:" + result.pid)
            await new Promise((r) => setTimeout(r, 500))
            if ("release" in result) await result.release()`
            const tsx = createRequire(import.meta.url).resolve("tsx/esm")
            const child = spawn(process.execPath, ["--import", tsx, "--input-type=module", "-e", script], {
              stdio: ["ignore", "pipe", "inherit"]
            })
            children.push(child)
            let out = ""
            child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c))
            child.on("error", reject)
            child.on("close", () => resolve(`${i}:${out}`))
          })
      )
    )
    const outcomes = results.map((r) => r.split(":").slice(1).join(":"))
    expect(
      outcomes.filter((o) => o === "lock"),
      results.join(", ")
    ).toHaveLength(1)
    expect(
      outcomes.filter((o) => o.startsWith("running:")),
      results.join(", ")
    ).toHaveLength(1)
    expect(await exists(lockPath)).toBe(false)
  })
})
