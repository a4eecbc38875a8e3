// The real opencode 1.18.x against the loopback simulator, fully offline: a tiny
// inline auth plugin routes Anthropic requests through its own fetch with the
// OAuth bearer and beta header; without a plugin the OAuth login is ignored.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fingerprint } from "@tollgate/core/Credential"
import { afterEach, describe, expect, it } from "vitest"
import {
  anthropicOAuth,
  findOpenCodeBinary,
  makeOpenCodeHome,
  opencodeLogin,
  opencodeRun,
  type OpenCodeHome,
  type OpenCodeHomeOptions
} from "../src/OpenCode.js"
import * as Simulator from "../src/Simulator.js"

const REPLY = "Hello from the tollgate simulator."
const OAUTH_BETA = "oauth-2025-04-20"

// OPENCODE_BIN, else opencode-ai, which this package installs as a dev dependency: its absence is a failure.
const binary = findOpenCodeBinary({ installDirs: [] })

// A V1 plugin (default export `{ id, server }`) as a user would write it: plain ESM, no imports.
const TEST_PLUGIN = `
export default {
  id: "tollgate-opencode-test",
  server: async () => ({
    auth: {
      provider: "anthropic",
      loader: async (getAuth) => ({
        apiKey: "",
        fetch: async (input, init) => {
          const auth = await getAuth()
          const headers = new Headers(init?.headers)
          headers.delete("x-api-key")
          headers.set("authorization", "Bearer " + auth.access)
          headers.set("anthropic-beta", ["${OAUTH_BETA}", headers.get("anthropic-beta")].filter(Boolean).join(","))
          return fetch(input, { ...init, headers })
        }
      }),
      methods: [
        {
          type: "oauth",
          label: "Test login",
          authorize: async () => ({
            url: "http://127.0.0.1:9/authorize",
            instructions: "Paste the code",
            method: "code",
            callback: async (code) =>
              code === "bad"
                ? { type: "failed" }
                : { type: "success", refresh: "refresh-" + code, access: "access-" + code, expires: 4102444800000 }
          })
        }
      ]
    }
  })
}
`

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const startSim = async () => {
  const sim = await Simulator.start({ ttlMs: 120_000 })
  cleanups.push(() => sim.close())
  return sim
}

const writePlugin = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-opencode-plugin-"))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, "tollgate-test-plugin.js")
  await writeFile(path, TEST_PLUGIN)
  return path
}

const makeHome = async (options: OpenCodeHomeOptions): Promise<OpenCodeHome> => {
  const home = await makeOpenCodeHome(options)
  cleanups.push(() => home.cleanup())
  return home
}

const RUN_TIMEOUT = 60_000

describe("opencode (real binary, offline)", () => {
  it("the opencode binary is installed with the project", () => {
    expect(binary, "opencode-ai should be installed by pnpm install").toBeDefined()
  })

  it(
    "with an auth plugin, `opencode run` answers from the simulator with the OAuth bearer and beta header",
    async () => {
      const sim = await startSim()
      const home = await makeHome({
        baseURL: `${sim.url}/v1`,
        plugin: await writePlugin(),
        auth: anthropicOAuth(sim.account)
      })

      const run = await opencodeRun({ home, prompt: "hi", timeoutMs: RUN_TIMEOUT, binary })

      expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
      expect(run.stdout).toContain(REPLY)
      const messages = sim.log.filter((r) => r.route === "messages")
      // One title request on the small model, then the prompt on the configured model.
      expect(messages.map((r) => r.body.model)).toContain("claude-sonnet-4-5")
      for (const request of messages) {
        expect(request.bearer).toBe(fingerprint(sim.account.accessToken))
        expect(request.apiKey).toBeNull()
        expect(request.beta?.split(",")).toContain(OAUTH_BETA)
        expect(request.body.stream).toBe(true)
        expect(request.outcome).toBe(200)
      }
      // Nothing but /v1/messages reached the simulator.
      expect(sim.log.every((r) => r.route === "messages")).toBe(true)
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "without a plugin, an OAuth entry in auth.json is ignored: the run fails before any request",
    async () => {
      const sim = await startSim()
      const home = await makeHome({ baseURL: `${sim.url}/v1`, auth: anthropicOAuth(sim.account) })

      const run = await opencodeRun({ home, prompt: "hi", timeoutMs: RUN_TIMEOUT, binary })

      expect(run.timedOut).toBe(false)
      expect(run.exitCode).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.text).toContain("Error: Anthropic API key is missing.")
      expect(sim.log).toEqual([])
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "`opencode providers login` drives the plugin's code method from piped stdin and stores the tokens",
    async () => {
      const sim = await startSim()
      const home = await makeHome({ baseURL: `${sim.url}/v1`, plugin: await writePlugin() })

      const login = await opencodeLogin({ home, method: "Test login", code: "abc", timeoutMs: RUN_TIMEOUT, binary })

      expect(login.exitCode, login.text).toBe(0)
      expect(login.text).toContain("Login successful")
      expect(await home.readAuth()).toEqual({
        anthropic: { type: "oauth", refresh: "refresh-abc", access: "access-abc", expires: 4102444800000 }
      })
      expect(sim.log).toEqual([])
    },
    RUN_TIMEOUT + 15_000
  )
})
