// opencode is the judge: the real opencode 1.18.x, offline against the
// simulator, loading the built bundle exactly as a user would install it.
import { spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  anthropicOAuth,
  findOpenCodeBinary,
  makeOpenCodeHome,
  type OpenCodeHome,
  type OpenCodeHomeOptions,
  opencodeRun,
  stripAnsi
} from "@tollgate/conformance/OpenCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { bundle } from "../build.mjs"

const REPLY = "Hello from the tollgate simulator."
const OAUTH_BETA = "oauth-2025-04-20"
const RUN_TIMEOUT = 60_000

const binary = findOpenCodeBinary({ installDirs: ["/tmp/oc"] })
if (binary === undefined) console.warn("opencode.test: no opencode binary found; skipping (set OPENCODE_BIN)")

let dist = ""
let plugin = ""
beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), "tollgate-opencode-bundle-"))
  plugin = join(dist, "tollgate-opencode.js")
  await bundle(plugin)
})
afterAll(() => rm(dist, { recursive: true, force: true }))

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const startSim = async (scenario?: string) => {
  const sim = await Simulator.start({ ttlMs: 120_000, ...(scenario ? { scenario } : {}) })
  cleanups.push(() => sim.close())
  return sim
}

const makeHome = async (sim: Simulator.Simulator, options: Partial<OpenCodeHomeOptions>): Promise<OpenCodeHome> => {
  const home = await makeOpenCodeHome({
    baseURL: `${sim.url}/v1`,
    env: { TOLLGATE_API_BASE_URL: sim.url, TOLLGATE_OAUTH_BASE_URL: sim.url },
    ...options
  })
  cleanups.push(() => home.cleanup())
  return home
}

// `opencode providers login` with the pasted answer computed from the URL the
// plugin printed (opencodeLogin writes stdin up front, before the URL exists).
const loginInteractively = (home: OpenCodeHome, answer: (url: string) => Promise<string>) =>
  new Promise<{ exitCode: number | null; text: string }>((resolve, reject) => {
    const child = spawn(binary!, ["providers", "login", "-p", "anthropic", "-m", "Claude Pro/Max (OAuth)"], {
      env: home.env,
      cwd: home.project,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true
    })
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
  // opencode-ai is a dev dependency installed with the project: a missing binary is a failure, not a skip.
  it("the real opencode binary is installed", () => {
    expect(binary, "opencode-ai should be installed by pnpm install").toBeDefined()
  })

  it(
    "`opencode run` answers from the simulator, signed with the OAuth bearer and beta",
    async () => {
      const sim = await startSim()
      const home = await makeHome(sim, { plugin, auth: anthropicOAuth(sim.account) })

      const run = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })

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
      const sim = await startSim("expired-access-token")
      const home = await makeHome(sim, { plugin, auth: anthropicOAuth(sim.account) })

      const run = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })

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
      const sim = await startSim("expired-access-token")
      const home = await makeHome(sim, { auth: anthropicOAuth(sim.account) })

      const run = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })

      expect(run.exitCode).toBe(1)
      expect(run.text).toContain("API key is missing")
      expect(sim.log).toEqual([])
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "`opencode providers login` runs the PKCE login end to end and stores the exchanged tokens",
    async () => {
      const sim = await startSim()
      const home = await makeHome(sim, { plugin })
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
      const sim = await startSim()
      const home = await makeHome(sim, { plugin })
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
