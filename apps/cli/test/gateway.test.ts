// `tollgate gateway` as a user runs it: real processes in a throwaway HOME, the
// Claude Code login as a real file, the simulator over real HTTP on 127.0.0.1.
import { once } from "node:events"
import { mkdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Simulator from "@tollgate/conformance/Simulator"
import { describe, expect } from "vitest"
import {
  builtDispatcher,
  expectFastCommand,
  type Sandbox,
  start,
  test as it,
  tollgate,
  tollgateBuilt
} from "./tollgate.js"

const claudeStore = async (sandbox: Sandbox, sim: Simulator.Simulator) => {
  const dir = join(sandbox.home, ".claude")
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeFile(
    join(dir, ".credentials.json"),
    JSON.stringify({
      claudeAiOauth: {
        accessToken: sim.account.accessToken,
        refreshToken: sim.account.refreshToken,
        expiresAt: sim.account.expiresAt,
        scopes: [...sim.account.scopes],
        subscriptionType: "max"
      }
    }),
    { mode: 0o600 }
  )
}

const waitForFile = async (file: string, ms = 45_000): Promise<string> => {
  const until = Date.now() + ms
  for (;;) {
    const text = await readFile(file, "utf8").catch(() => "")
    if (text.endsWith("\n")) return text.trim()
    if (Date.now() > until) throw new Error(`${file} did not appear`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const ask = (port: string, key: string, stream = false) =>
  fetch(`http://127.0.0.1:${port}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 16,
      stream,
      messages: [{ role: "user", content: "hi" }]
    })
  })

describe("tollgate gateway", () => {
  it("key: created once, 0600 in a 0700 directory, the same on every call", async ({ sandbox }) => {
    const first = await tollgate(sandbox, ["gateway", "key"])
    expect(first.code, first.stderr).toBe(0)
    const key = first.stdout.trim()
    expect(key).toMatch(/^tollgate-gw-[A-Za-z0-9_-]{43}$/)
    const second = await tollgate(sandbox, ["gateway", "key"])
    expect(second.stdout.trim()).toBe(key)
    const file = join(sandbox.home, ".config", "tollgate", "gateway.key")
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(sandbox.home, ".config", "tollgate"))).mode & 0o777).toBe(0o700)
  })

  it("run: serves the Claude Code login on --port 0, status reports it, SIGTERM lets a stream finish and exits 0; no secret in its log", async ({
    sandbox
  }) => {
    const sim = await Simulator.start({ ttlMs: 120_000 })
    try {
      await claudeStore(sandbox, sim)
      const key = (await tollgate(sandbox, ["gateway", "key"])).stdout.trim()
      const portFile = join(sandbox.root, "gateway.port")
      const child = start({ ...sandbox, env: { ...sandbox.env, ...sim.env } }, [
        "gateway",
        "run",
        "--port",
        "0",
        "--port-file",
        portFile
      ])
      let log = ""
      child.stderr.setEncoding("utf8").on("data", (c: string) => (log += c))
      const port = await waitForFile(portFile)

      const answer = await ask(port, key)
      expect(answer.status).toBe(200)
      const status = await tollgate(sandbox, ["gateway", "status", "--json", "--port", port])
      const report = JSON.parse(status.stdout) as {
        running: boolean
        gateway: { accounts: Array<{ type: string; store: string }> }
        seen: Array<{ verdict: string }>
      }
      expect(report.running).toBe(true)
      expect(report.gateway.accounts).toEqual([
        { index: 0, type: "claude-code", store: join(sandbox.home, ".claude", ".credentials.json") }
      ])
      expect(report.seen[0]?.verdict).toBe("ok")

      sim.setStreamPace(200)
      const streaming = await ask(port, key, true)
      const exited = once(child, "exit")
      child.kill("SIGTERM")
      const text = await streaming.text()
      expect(text).toContain("event: message_stop")
      const [code] = await exited
      expect(code).toBe(0)
      expect(log).toMatch(/stopped/)
      for (const secret of [key, sim.account.accessToken, sim.account.refreshToken])
        expect(log.includes(secret!)).toBe(false)
      expect(status.stdout.includes(key)).toBe(false)
    } finally {
      await sim.close()
    }
  }, 90_000)

  it("quota through forwarded headers: after one request through the gateway, the daemon's statusline shows its numbers without another usage call", async ({
    sandbox
  }) => {
    const sim = await Simulator.start({
      scenario: {
        name: "gateway-quota",
        summary: "the usage endpoint's numbers",
        account: { utilization: { fiveHour: 10, sevenDay: 20 } }
      },
      ttlMs: 120_000
    })
    const env = { ...sandbox.env, ...sim.env }
    const children: Array<ReturnType<typeof start>> = []
    try {
      await claudeStore(sandbox, sim)
      const key = (await tollgate(sandbox, ["gateway", "key"])).stdout.trim()
      const daemon = start({ ...sandbox, env }, ["daemon", "run"])
      children.push(daemon)
      const socket = join(sandbox.env["XDG_RUNTIME_DIR"]!, "tollgate", "daemon.sock")
      const until = Date.now() + 45_000
      while (
        !(await stat(socket).then(
          () => true,
          () => false
        ))
      ) {
        if (Date.now() > until) throw new Error("the daemon did not start")
        await new Promise((r) => setTimeout(r, 100))
      }
      const portFile = join(sandbox.root, "gateway.port")
      children.push(start({ ...sandbox, env }, ["gateway", "run", "--port", "0", "--port-file", portFile]))
      const port = await waitForFile(portFile)
      // The daemon's first ask polls the usage endpoint once (for what headers cannot give): 10% / 20%.
      // The statusline's 100 ms budget may run out while that poll is under way, and the daemon's published
      // answer ("no usage yet") is reused for up to 15 s: ask until the numbers show.
      const statusline = () => tollgate({ ...sandbox, env }, ["statusline"], { stdin: "{}" })
      let before = await statusline()
      for (const deadline = Date.now() + 40_000; !before.stdout.includes("5h:") && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 1_000))
        before = await statusline()
      }
      expect(before.stdout).toBe("🚦 5h:10% 7d:20%\n")
      expect(sim.count("usage")).toBe(1)
      // One request through the gateway whose answer carries other numbers (61% / 27%) in its unified headers:
      // they reach the daemon, which shows them without polling again.
      const reset = String(Math.floor(Date.now() / 1000) + 3600)
      sim.script("messages", {
        status: 200,
        headers: {
          "content-type": "application/json",
          "anthropic-ratelimit-unified-status": "allowed",
          "anthropic-ratelimit-unified-reset": reset,
          "anthropic-ratelimit-unified-5h-utilization": "0.61",
          "anthropic-ratelimit-unified-7d-utilization": "0.27",
          "anthropic-ratelimit-unified-5h-reset": reset,
          "anthropic-ratelimit-unified-7d-reset": reset
        },
        body: JSON.stringify({
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "m",
          content: [{ type: "text", text: "hi" }],
          stop_reason: "end_turn",
          usage: { input_tokens: 1, output_tokens: 1 }
        })
      })
      expect((await ask(port, key)).status).toBe(200)
      await new Promise((r) => setTimeout(r, 300))
      // (the published answer is reused for up to 15 s before the client asks the daemon again)
      let after = await statusline()
      for (const deadline = Date.now() + 40_000; after.stdout === before.stdout && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 1_000))
        after = await statusline()
      }
      expect(after.stdout).toMatch(/^🚦 5h:61%\S* 7d:27%\S*\n$/)
      expect(sim.count("usage")).toBe(1)
    } finally {
      for (const child of children) child.kill("SIGTERM")
      await Promise.all(children.map((c) => (c.exitCode === null ? once(c, "exit") : null)))
      await sim.close()
    }
  }, 150_000)

  it("status with no gateway running says so and exits 0", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["gateway", "status", "--port", "1"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/not running/)
  })

  it("install --dry-run prints a user unit that runs `gateway run` and writes nothing", async ({ sandbox }) => {
    const run = await tollgateBuilt(sandbox, ["gateway", "install", "--dry-run", "--platform", "linux"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/tollgate-gateway\.service/)
    expectFastCommand(/^ExecStart=(.*)$/m.exec(run.stdout)?.[1] ?? "", await builtDispatcher(), ["gateway", "run"])
    expect(run.stdout).toMatch(/Description=tollgate Anthropic API gateway/)
    await expect(stat(join(sandbox.home, ".config", "systemd"))).rejects.toThrow()
  })
})
