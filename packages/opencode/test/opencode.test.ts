// opencode is the judge: the real opencode 1.18.x, offline against the
// simulator, loading the built bundle exactly as a user would install it.
import { spawn } from "node:child_process"
import { anthropicOAuth, type OpenCodeHome, stripAnsi } from "@tollgate/conformance/OpenCode"
import { fingerprint } from "@tollgate/core/Credential"
import { describe, expect, it } from "vitest"
import { binary, expectBinaryInstalled, inOwnGroup, realOpencode, REPLY, runOpencode } from "./support/realOpencode.js"

const OAUTH_BETA = "oauth-2025-04-20"
const RUN_TIMEOUT = 60_000

if (binary === undefined) console.warn("opencode.test: no opencode binary found; skipping (set OPENCODE_BIN)")

const oc = realOpencode("tollgate-opencode-bundle-")
// `opencode providers login` with the pasted answer computed from the URL the
// plugin printed (opencodeLogin writes stdin up front, before the URL exists).
const loginInteractively = (home: OpenCodeHome, answer: (url: string) => Promise<string>) =>
  new Promise<{ exitCode: number | null; text: string }>((resolve, reject) => {
    const child = spawn(
      binary!,
      ["providers", "login", "-p", "anthropic", "-m", "Claude Pro/Max (OAuth)"],
      inOwnGroup(home, ["pipe", "pipe", "pipe"])
    )
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), RUN_TIMEOUT)
    let out = ""
    let answered = false
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8")
      const url = /Go to: (\S+)/.exec(stripAnsi(out))?.[1]
      if (url === undefined || answered) return
      answered = true
      answer(url).then(
        (text) => child.stdin.end(`${text}\r`),
        (error: unknown) => {
          process.kill(-child.pid!, "SIGKILL")
          reject(error)
        }
      )
    }
    child.stdin.on("error", () => {})
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("error", reject)
    child.once("close", (exitCode) => {
      clearTimeout(timer)
      resolve({ exitCode, text: stripAnsi(out) })
    })
  })

describe("opencode with the tollgate plugin (real binary, offline)", () => {
  it("the real opencode binary is installed", expectBinaryInstalled)

  it(
    "`opencode run` answers from the simulator, signed with the OAuth bearer and beta",
    async () => {
      const sim = await oc.startSim()
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(sim.account) })

      const run = await runOpencode(home, RUN_TIMEOUT)

      expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
      expect(run.stdout).toContain(REPLY)
      const messages = sim.log.filter((r) => r.route === "messages")
      expect(messages).toHaveLength(1)
      for (const request of messages) {
        expect(request.bearer).toBe(fingerprint(sim.account.accessToken))
        expect(request.apiKey).toBeNull()
        expect(request.beta?.split(",")).toContain(OAUTH_BETA)
        expect(request.outcome).toBe(200)
      }
      expect(sim.count("token")).toBe(0)
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "an expired token is refreshed exactly once and the new tokens land in auth.json",
    async () => {
      const sim = await oc.startSim({ scenario: "expired-access-token" })
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(sim.account) })

      const run = await runOpencode(home, RUN_TIMEOUT)

      expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
      expect(run.stdout).toContain(REPLY)
      expect(sim.count("token")).toBe(1)
      const stored = (await home.readAuth())?.["anthropic"] as Record<string, unknown> | undefined
      expect(stored?.["type"]).toBe("oauth")
      expect(stored?.["access"]).not.toBe(sim.account.accessToken)
      expect(stored?.["expires"]).toBeGreaterThan(Date.now())
      const served = sim.log.filter((r) => r.route === "messages")
      expect(served.length).toBeGreaterThan(0)
      for (const request of served) expect(request.bearer).toBe(fingerprint(String(stored?.["access"])))
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "negative control: without the plugin the same run fails with the missing API key error",
    async () => {
      const sim = await oc.startSim({ scenario: "expired-access-token" })
      const home = await oc.makeSimHome(sim, { auth: anthropicOAuth(sim.account) })

      const run = await runOpencode(home, RUN_TIMEOUT)

      expect(run.exitCode).toBe(1)
      expect(run.text).toContain("API key is missing")
      expect(sim.log).toEqual([])
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "`opencode providers login` runs the PKCE login end to end and stores the exchanged tokens",
    async () => {
      const sim = await oc.startSim()
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin })
      const env = { ...home.env, TOLLGATE_AUTHORIZE_URL: `${sim.url}/oauth/authorize` }
      let state = ""
      const login = await loginInteractively({ ...home, env }, async (url) => {
        const params = new URL(url).searchParams
        state = params.get("state") ?? ""
        expect(params.get("code_challenge_method")).toBe("S256")
        expect(params.get("code_challenge")).not.toBe(state)
        return (await fetch(url)).text()
      })

      expect(login.exitCode, login.text).toBe(0)
      expect(login.text).toContain("Login successful")
      expect(state.length).toBeGreaterThan(20)
      expect(sim.count("token")).toBe(1)
      const stored = (await home.readAuth())?.["anthropic"] as Record<string, unknown> | undefined
      expect(stored?.["type"]).toBe("oauth")
      expect(String(stored?.["access"])).toMatch(/^sk-ant-oat01-/)
      expect(String(stored?.["refresh"])).toMatch(/^sk-ant-ort01-/)
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "a pasted code whose state does not match fails without calling the token endpoint",
    async () => {
      const sim = await oc.startSim()
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin })
      const env = { ...home.env, TOLLGATE_AUTHORIZE_URL: `${sim.url}/oauth/authorize` }
      const login = await loginInteractively({ ...home, env }, async (url) => {
        const [code] = (await (await fetch(url)).text()).split("#")
        return `${code}#not-the-state`
      })

      expect(login.text).toContain("Failed to authorize")
      // and says why, not just "failed"
      expect(login.text).toMatch(/does not belong to this login attempt/)
      expect(sim.count("token")).toBe(0)
      expect(await home.readAuth()).toBeNull()
    },
    RUN_TIMEOUT + 15_000
  )
})
