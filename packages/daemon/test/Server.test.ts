/**
 * Socket robustness: hundreds of concurrent clients, well-formed and hostile,
 * against one server; every well-formed one gets its own answer and the
 * server outlives the rest.
 */
import { randomBytes } from "node:crypto"
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type * as Protocol from "../src/Protocol.js"
import * as Server from "../src/Server.js"
import * as SingleInstance from "../src/SingleInstance.js"

let root = ""
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tollgate-server-"))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

interface Exchange {
  readonly data: string
  readonly error: string | null
  /** Milliseconds from connect to close. */
  readonly ms: number
}

/** Connects, sends `payload` (then half-closes unless `keepOpen`), and collects everything until close. */
const exchange = (
  socketPath: string,
  payload: string | Buffer,
  options: { readonly keepOpen?: boolean } = {}
): Promise<Exchange> =>
  new Promise((resolve) => {
    const started = Date.now()
    let data = ""
    let error: string | null = null
    const socket = connect(socketPath)
    socket.setEncoding("utf8")
    socket.on("connect", () => (options.keepOpen ? socket.write(payload) : socket.end(payload)))
    socket.on("data", (chunk: string) => (data += chunk))
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message))
    socket.on("close", () => resolve({ data, error, ms: Date.now() - started }))
  })

const reply = (e: Exchange): Protocol.Reply => JSON.parse(e.data.split("\n")[0] ?? "") as Protocol.Reply

const quotaFor = (sessionId: string | undefined): Protocol.Quota => ({
  windows: { fiveHour: { usedPercent: 42, resetsAt: 1_900_000_000_000 } },
  source: "statusline",
  observedAt: 1_800_000_000_000,
  verdict: null,
  until: null,
  message: `for ${sessionId ?? "nobody"}`
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const echoHandler = async (request: Protocol.Request): Promise<Protocol.Reply> => {
  await sleep(Math.random() * 20)
  switch (request.op) {
    case "ping":
      return { v: 1, ok: true, op: "pong", pid: process.pid }
    case "status":
      return { v: 1, ok: true, op: "status", quota: quotaFor(request.sessionId) }
    case "ingest-headers":
      return { v: 1, ok: true, op: "ingested" }
  }
}

describe("Server", () => {
  it("answers 200 concurrent clients correctly amid garbage, 10 MB requests, stalled and vanishing clients", async () => {
    const socketPath = join(root, "run", "daemon.sock")
    const logs: Array<string> = []
    const server = await Server.start({ socketPath, handle: echoHandler, log: (line) => logs.push(line) })
    try {
      expect((await stat(socketPath)).mode & 0o777).toBe(0o600)
      expect((await stat(join(root, "run"))).mode & 0o777).toBe(0o700)

      // Half end with a newline and stay open until answered; half only half-close.
      const wellFormed = Array.from({ length: 200 }, (_, i) => {
        const line = JSON.stringify({
          v: 1,
          op: "status",
          sessionId: `s-${i}`,
          rateLimits: { fiveHour: { usedPercent: i % 100, resetsAt: null } }
        })
        return exchange(socketPath, i % 2 === 0 ? `${line}\n` : line, { keepOpen: i % 2 === 0 }).then((e) => ({ i, e }))
      })
      const secret = "sk-ant-oat01-SECRET-never-logged"
      const garbage = [
        ...Array.from({ length: 50 }, () => exchange(socketPath, randomBytes(1 + Math.floor(Math.random() * 4096)))),
        exchange(socketPath, `{"v":1,"op":"ingest-headers","headers":{"authorization":"Bearer ${secret}"\n`),
        exchange(socketPath, `${JSON.stringify({ v: 1, op: "steal", token: secret })}\n`),
        exchange(socketPath, `${JSON.stringify({ v: 2, op: "ping" })}\n`),
        exchange(socketPath, "[1,2,3]\n")
      ]
      const huge = Array.from({ length: 3 }, () => exchange(socketPath, Buffer.alloc(10 * 1024 * 1024, "a")))
      // Connect, send half a request, never finish.
      const stalled = Array.from({ length: 10 }, () => exchange(socketPath, '{"v":1,"op":"sta', { keepOpen: true }))
      const silent = Array.from({ length: 5 }, () => exchange(socketPath, "", { keepOpen: true }))
      const vanishing = Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(socketPath)
            socket.on("connect", () => socket.destroy())
            socket.on("error", () => {})
            socket.on("close", () => resolve())
          })
      )

      for (const { i, e } of await Promise.all(wellFormed)) {
        expect(e.error, `client ${i}`).toBeNull()
        const r = reply(e)
        expect(r.ok && r.op === "status" ? r.quota.message : r, `client ${i}`).toBe(`for s-${i}`)
      }
      for (const e of await Promise.all(garbage)) {
        // Random bytes with no byte at all before a newline are the only way to get no reply.
        if (e.data === "") continue
        expect(reply(e).ok).toBe(false)
      }
      const [truncated, wrongOp, wrongVersion, array] = (await Promise.all(garbage)).slice(50)
      expect(reply(truncated!)).toMatchObject({ ok: false, error: { code: "bad_json" } })
      expect(reply(wrongOp!)).toMatchObject({ ok: false, error: { code: "bad_request" } })
      expect(reply(wrongVersion!)).toMatchObject({ ok: false, error: { code: "unsupported_version" } })
      expect(reply(array!)).toMatchObject({ ok: false, error: { code: "bad_request" } })
      for (const e of await Promise.all(huge)) {
        expect(reply(e)).toMatchObject({ v: 1, ok: false, error: { code: "too_large" } })
      }
      for (const e of await Promise.all([...stalled, ...silent])) {
        expect(e.data).toBe("")
        expect(e.ms).toBeGreaterThanOrEqual(900)
        expect(e.ms).toBeLessThan(5_000)
      }
      await Promise.all(vanishing)

      // Still up, and nothing left open.
      expect(await SingleInstance.ping(socketPath, 1_000)).toEqual({ pid: process.pid })
      for (let i = 0; i < 50 && server.connections() > 0; i++) await sleep(20)
      expect(server.connections()).toBe(0)

      expect(logs.filter((l) => l.includes("over 65536 bytes"))).toHaveLength(3)
      expect(logs.filter((l) => l.includes("no whole request within 1000 ms"))).toHaveLength(10)
      expect(logs.join("\n")).not.toContain("SECRET")
      expect(logs.join("\n")).not.toContain("s-1")
    } finally {
      await server.close()
    }
    await expect(stat(socketPath)).rejects.toMatchObject({ code: "ENOENT" })
  }, 15_000)

  it("a handler that throws or rejects gets an internal reply, and the server keeps serving", async () => {
    const socketPath = join(root, "daemon.sock")
    const logs: Array<string> = []
    const server = await Server.start({
      socketPath,
      log: (line) => logs.push(line),
      handle: (request) => {
        if (request.op === "status") throw new Error(`boom with ${request.sessionId}`)
        if (request.op === "ingest-headers") return Promise.reject(new TypeError("nope"))
        return Promise.resolve({ v: 1, ok: true, op: "pong", pid: 7 })
      }
    })
    try {
      const thrown = await exchange(socketPath, `${JSON.stringify({ v: 1, op: "status", sessionId: "token-ish" })}\n`)
      expect(reply(thrown)).toEqual({
        v: 1,
        ok: false,
        error: { code: "internal", message: "the daemon could not answer this request" }
      })
      const rejected = await exchange(socketPath, JSON.stringify({ v: 1, op: "ingest-headers", headers: {} }))
      expect(reply(rejected)).toMatchObject({ ok: false, error: { code: "internal" } })
      expect(await SingleInstance.ping(socketPath, 1_000)).toEqual({ pid: 7 })
      expect(logs).toEqual([
        "tollgate daemon: a status request failed inside the daemon (Error)",
        "tollgate daemon: a ingest-headers request failed inside the daemon (TypeError)"
      ])
    } finally {
      await server.close()
    }
  })

  it("honours maxRequestBytes and readDeadlineMs, and close() ends open connections", async () => {
    const socketPath = join(root, "daemon.sock")
    const server = await Server.start({ socketPath, handle: echoHandler, maxRequestBytes: 32, readDeadlineMs: 200 })
    const big = await exchange(socketPath, `${JSON.stringify({ v: 1, op: "status", sessionId: "x".repeat(40) })}\n`)
    expect(reply(big)).toMatchObject({ ok: false, error: { code: "too_large" } })
    const slow = await exchange(socketPath, "{", { keepOpen: true })
    expect(slow.ms).toBeGreaterThanOrEqual(150)
    expect(slow.ms).toBeLessThan(1_000)

    const pending = exchange(socketPath, "{", { keepOpen: true })
    await sleep(50)
    expect(server.connections()).toBe(1)
    await server.close()
    expect((await pending).ms).toBeLessThan(150)
    await expect(stat(socketPath)).rejects.toMatchObject({ code: "ENOENT" })
    await server.close()
  })

  it("replaces a stale socket file, and refuses to start over a live daemon", async () => {
    const socketPath = join(root, "daemon.sock")
    await writeFile(socketPath, "")
    const first = await Server.start({ socketPath, handle: echoHandler })
    try {
      const second = Server.start({ socketPath, handle: echoHandler })
      await expect(second).rejects.toBeInstanceOf(Server.SocketError)
      await expect(second).rejects.toMatchObject({
        reason: "AlreadyRunning",
        message: expect.stringContaining(`tollgate daemon is already running (pid ${process.pid}`)
      })
      expect(await SingleInstance.ping(socketPath, 1_000)).toEqual({ pid: process.pid })
    } finally {
      await first.close()
    }
  })

  it("tightens a loose directory of ours, and refuses a symlink or someone else's directory", async () => {
    const loose = join(root, "loose")
    await mkdir(loose, { mode: 0o755 })
    await chmod(loose, 0o755)
    const server = await Server.start({ socketPath: join(loose, "daemon.sock"), handle: echoHandler })
    await server.close()
    expect((await stat(loose)).mode & 0o777).toBe(0o700)

    const { symlink } = await import("node:fs/promises")
    await symlink(loose, join(root, "link"))
    await expect(
      Server.start({ socketPath: join(root, "link", "daemon.sock"), handle: echoHandler })
    ).rejects.toMatchObject({
      reason: "UnsafeDirectory"
    })
  })

  // Only root can hand a directory to another user; elsewhere the ownership check goes untested here.
  it.skipIf(process.getuid?.() !== 0)("refuses a directory owned by another user", async () => {
    const foreign = join(root, "foreign")
    await mkdir(foreign, { mode: 0o700 })
    await chown(foreign, 65534, 65534)
    await expect(Server.start({ socketPath: join(foreign, "daemon.sock"), handle: echoHandler })).rejects.toMatchObject(
      {
        reason: "UnsafeDirectory",
        message: expect.stringContaining("belongs to uid 65534")
      }
    )
  })
})
