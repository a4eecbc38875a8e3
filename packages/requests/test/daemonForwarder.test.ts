// Unified headers reach a (fake) daemon socket; nothing else leaves, and no daemon is silence.
import * as Simulator from "@tollgate/conformance/Simulator"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import * as DaemonForwarder from "../src/DaemonForwarder.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const fakeDaemon = async () => {
  const runtime = await mkdtemp(join(tmpdir(), "tg-rt-"))
  cleanups.push(() => rm(runtime, { recursive: true, force: true }))
  const env = { XDG_RUNTIME_DIR: runtime, HOME: runtime }
  const socket = DaemonForwarder.socketPath(env)
  await mkdir(join(runtime, "tollgate"), { recursive: true })
  const lines: Array<string> = []
  let notify: () => void = () => undefined
  const server: Server = createServer((conn) => {
    let buf = ""
    conn.on("data", (d) => {
      buf += d.toString()
      const nl = buf.indexOf("\n")
      if (nl >= 0) {
        lines.push(buf.slice(0, nl))
        conn.end(`${JSON.stringify({ v: 1, ok: true, op: "ingested" })}\n`)
        notify()
      }
    })
  })
  await new Promise<void>((r) => server.listen(socket, r))
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
  const next = () =>
    new Promise<string>((resolve, reject) => {
      if (lines.length > 0) return resolve(lines.shift()!)
      const t = setTimeout(() => reject(new Error("no ingest line")), 2000)
      notify = () => {
        clearTimeout(t)
        resolve(lines.shift()!)
      }
    })
  return { env, socket, lines, next }
}

describe("DaemonForwarder", () => {
  it("resolves the socket like the daemon's Paths", () => {
    expect(DaemonForwarder.socketPath({ XDG_RUNTIME_DIR: "/run/u", HOME: "/h" })).toBe("/run/u/tollgate/daemon.sock")
    expect(DaemonForwarder.socketPath({ HOME: "/h" })).toBe("/h/.local/state/tollgate/run/daemon.sock")
    expect(DaemonForwarder.socketPath({ XDG_STATE_HOME: "/s", HOME: "/h" })).toBe("/s/tollgate/run/daemon.sock")
  })

  it("sends one ingest-headers line with only the unified headers", async () => {
    const daemon = await fakeDaemon()
    const forwarder = DaemonForwarder.make({ env: daemon.env })
    const sent = forwarder.forward(
      new Headers({
        authorization: "Bearer sk-ant-oat01-secret",
        "x-api-key": "sk-ant-api-secret",
        "content-type": "application/json",
        "Anthropic-Ratelimit-Unified-5h-Utilization": "0.4",
        "anthropic-ratelimit-unified-status": "allowed"
      })
    )
    expect(sent).toBe(true)
    const line = await daemon.next()
    expect(line).not.toMatch(/secret|authorization|x-api-key|content-type/i)
    const request = JSON.parse(line) as { v: number; op: string; headers: Record<string, string>; at: number }
    expect(request).toMatchObject({ v: 1, op: "ingest-headers" })
    expect(request.headers).toEqual({
      "anthropic-ratelimit-unified-5h-utilization": "0.4",
      "anthropic-ratelimit-unified-status": "allowed"
    })
    expect(Math.abs(request.at - Date.now())).toBeLessThan(5000)
  })

  it("sends nothing without unified headers and is silent and immediate without a daemon", async () => {
    const runtime = await mkdtemp(join(tmpdir(), "tg-rt-"))
    cleanups.push(() => rm(runtime, { recursive: true, force: true }))
    const forwarder = DaemonForwarder.make({ env: { XDG_RUNTIME_DIR: runtime, HOME: runtime } })
    expect(forwarder.forward(new Headers({ "content-type": "text/plain" }))).toBe(false)
    const started = performance.now()
    expect(forwarder.forward({ "anthropic-ratelimit-unified-status": "allowed" })).toBe(true)
    expect(performance.now() - started).toBeLessThan(20)
    // Let the failed connect happen: no unhandled error.
    await new Promise((r) => setTimeout(r, 100))
  })

  it("AuthorizedFetch forwards the unified headers of upstream responses", async () => {
    const daemon = await fakeDaemon()
    const sim = await Simulator.start({ ttlMs: 120_000 })
    cleanups.push(() => sim.close())
    sim.script("messages", {
      status: 200,
      headers: { "content-type": "application/json", "anthropic-ratelimit-unified-5h-utilization": "0.3" },
      body: JSON.stringify({
        id: "m",
        type: "message",
        role: "assistant",
        content: [],
        model: "x",
        stop_reason: "end_turn"
      })
    })
    const fetch = AuthorizedFetch.make({
      accounts: [
        {
          type: "oauth",
          access: sim.account.accessToken,
          refresh: sim.account.refreshToken,
          expires: sim.account.expiresAt
        }
      ],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url },
      forwarder: DaemonForwarder.make({ env: daemon.env })
    })
    const response = await fetch(`${sim.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
    })
    expect(response.status).toBe(200)
    const line = await daemon.next()
    expect(line).not.toContain(sim.account.accessToken)
    expect((JSON.parse(line) as { headers: Record<string, string> }).headers).toMatchObject({
      "anthropic-ratelimit-unified-5h-utilization": "0.3"
    })
  })
})
