// The Claude Code judge: the real `claude` 2.1.330, in a throwaway HOME with
// no login of its own, pointed at the gateway with the gateway key as its
// bearer token. It must print the simulator's reply, and the simulator must
// have seen the subscription login, never the key.
import { spawn } from "node:child_process"
import { claudeBinary, makeTempHome } from "@tollgate/conformance/ClaudeCode"
import { describe, expect, it } from "vitest"
import { start } from "./support/world.js"

const REPLY = "Hello from the tollgate simulator."

const claudePrint = (env: Record<string, string>, cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(claudeBinary(), ["-p", "hi"], {
      env,
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
      killSignal: "SIGKILL"
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })

describe("claude -p through the gateway", () => {
  it("ANTHROPIC_BASE_URL=<gateway> ANTHROPIC_AUTH_TOKEN=<gateway key> claude -p hi prints the simulator's reply", async () => {
    const world = await start({})
    const home = await makeTempHome("tollgate-gateway-claude-")
    try {
      const run = await claudePrint(
        {
          ...home.env,
          ANTHROPIC_BASE_URL: world.gateway.url,
          ANTHROPIC_AUTH_TOKEN: world.key,
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"
        },
        home.home
      )
      expect(run.stdout.trim(), run.stderr).toBe(REPLY)
      expect(run.code).toBe(0)
      const messages = world.sim.log.filter((r) => r.route === "messages")
      expect(messages.length).toBeGreaterThan(0)
      // Signed with the subscription login and tollgate's own User-Agent, whatever claude sent.
      for (const r of messages) {
        expect(r.bearer).not.toBeNull()
        expect(r.userAgent).toMatch(/^tollgate\//)
      }
      for (const line of world.logs) expect(line.includes(world.key)).toBe(false)
    } finally {
      await home.cleanup()
      await world.close()
    }
  }, 90_000)
})
