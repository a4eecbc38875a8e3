// "Use my Claude Code login", judged by both real runtimes: opencode runs on
// the login in Claude Code's store (refreshing it under Claude Code's locks),
// and afterwards the real `claude` still finds itself logged in.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { claudeAuthStatus } from "@tollgate/conformance/ClaudeCode"
import { startMitm } from "@tollgate/conformance/Mitm"
import { opencodeSpawn } from "@tollgate/conformance/OpenCode"
import type * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import { describe, expect, it } from "vitest"
import { binary, expectBinaryInstalled, realOpencode, REPLY, runOpencode } from "./support/realOpencode.js"

const MARKER = "claude-code-shared"
const LABEL = "Use my Claude Code login"
const RUN_TIMEOUT = 90_000

if (binary === undefined) console.warn("sharedLogin.test: no opencode binary found; skipping (set OPENCODE_BIN)")

const oc = realOpencode("tollgate-opencode-shared-bundle-", 60_000)

const claudeLogin = (issued: Simulator.Issued) => ({
  claudeAiOauth: {
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    expiresAt: issued.expiresAt,
    scopes: [...issued.scopes],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x"
  },
  mcpOAuth: { "linear|1": { serverName: "linear", accessToken: "mcp-secret", expiresAt: 1 } },
  pluginSecrets: { x: "y" }
})

const setup = async (scenario: string | undefined, auth: Record<string, unknown> | undefined) => {
  const sim = await oc.startSim(scenario ? { scenario } : {})
  const home = await oc.makeSimHome(sim, { plugin: oc.plugin, ...(auth ? { auth } : {}) })
  const claudeDir = join(home.home, ".claude")
  await mkdir(claudeDir, { recursive: true, mode: 0o700 })
  const store = join(claudeDir, ".credentials.json")
  await writeFile(store, JSON.stringify(claudeLogin(sim.account)), { mode: 0o600 })
  return { sim, home, store }
}

describe("Use my Claude Code login (real opencode + real claude, offline)", () => {
  it("the real opencode binary is installed", expectBinaryInstalled)

  it(
    "an expired shared login: opencode refreshes it once into Claude Code's store, and claude stays logged in",
    async () => {
      const marker = (issued: Simulator.Issued) => ({
        anthropic: { type: "oauth", refresh: MARKER, access: issued.accessToken, expires: issued.expiresAt }
      })
      const { sim, home, store } = await setup("expired-access-token", undefined)
      await writeFile(home.authFile, JSON.stringify(marker(sim.account)), { mode: 0o600 })
      const before = JSON.parse(await readFile(store, "utf8")) as Record<string, unknown>

      const run = await runOpencode(home, RUN_TIMEOUT)

      expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
      expect(run.stdout).toContain(REPLY)
      expect(sim.count("token")).toBe(1)

      const after = JSON.parse(await readFile(store, "utf8")) as Record<string, Record<string, unknown>>
      for (const key of Object.keys(before)) expect(key in after, `top-level ${key} kept`).toBe(true)
      const oauth = after["claudeAiOauth"]!
      expect(oauth["accessToken"] === sim.current().accessToken).toBe(true)
      expect(oauth["refreshToken"] === sim.account.refreshToken).toBe(false)
      expect(oauth["subscriptionType"]).toBe("max")
      expect(oauth["expiresAt"]).toBeGreaterThan(Date.now())

      const served = sim.log.filter((r) => r.route === "messages")
      expect(served.length).toBeGreaterThan(0)
      for (const request of served) expect(request.bearer).toBe(fingerprint(String(oauth["accessToken"])))

      const authText = await readFile(home.authFile, "utf8")
      expect(authText.includes(sim.account.refreshToken!)).toBe(false)
      expect(authText.includes(String(oauth["refreshToken"]))).toBe(false)
      const entry = (JSON.parse(authText) as Record<string, Record<string, unknown>>)["anthropic"]
      expect(entry?.["refresh"]).toBe(MARKER)
      // opencode's view follows the store: the new access token and expiry, with the marker.
      expect(entry?.["access"] === oauth["accessToken"]).toBe(true)
      expect(entry?.["expires"]).toBe(oauth["expiresAt"])

      // The real Claude Code on the same HOME, through the simulator's MITM proxy.
      const certs = join(home.home, "certs")
      await mkdir(certs, { recursive: true })
      const proxy = await startMitm({ handler: sim.listener, dir: certs, ttlMs: 120_000 })
      oc.defer(() => proxy.close())
      const status = await claudeAuthStatus({ env: { ...home.env, ...proxy.env }, timeoutMs: 30_000 })
      expect(status.exitCode, status.stderr).toBe(0)
      expect(status.json?.["loggedIn"]).toBe(true)
      expect(status.json?.["subscriptionType"]).toBe("max")
      expect(sim.count("token")).toBe(1)
    },
    RUN_TIMEOUT + 60_000
  )

  it(
    '`opencode providers login -m "Use my Claude Code login"` stores the marker, never Claude Code\'s refresh token',
    async () => {
      const { sim, home } = await setup(undefined, undefined)

      const login = await opencodeSpawn({
        home,
        args: ["providers", "login", "-p", "anthropic", "-m", LABEL],
        input: "\r",
        timeoutMs: RUN_TIMEOUT,
        binary
      })

      expect(login.text).toContain("Login successful")
      const authText = await readFile(home.authFile, "utf8")
      expect(authText.includes(sim.account.refreshToken!)).toBe(false)
      const entry = (JSON.parse(authText) as Record<string, Record<string, unknown>>)["anthropic"]
      expect(entry).toMatchObject({ type: "oauth", refresh: MARKER, access: sim.account.accessToken })
      expect(sim.count("token")).toBe(0)
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "without a Claude Code login the method fails and writes nothing",
    async () => {
      const { sim, home, store } = await setup(undefined, undefined)
      await rm(store)

      const login = await opencodeSpawn({
        home,
        args: ["providers", "login", "-p", "anthropic", "-m", LABEL],
        input: "\r",
        timeoutMs: RUN_TIMEOUT,
        binary
      })

      expect(login.text).toContain("Failed to authorize")
      expect(await home.readAuth()).toBeNull()
      expect(sim.log).toEqual([])
    },
    RUN_TIMEOUT + 15_000
  )
})
