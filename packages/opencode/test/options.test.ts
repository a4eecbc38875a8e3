// The plugin's options are validated at load: every problem is told (opencode's log and a toast),
// named by the option, never with its value; the valid accounts still serve.
import * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"
import { describe as describeProblems, validate } from "@tollgate/requests/Accounts"
import plugin from "../src/plugin.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  vi.unstubAllEnvs()
  for (const c of cleanups.splice(0).reverse()) await c()
})

const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-options-"))
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }))
  return dir
}

const SECRET = "sk-ant-api03-SECRET-do-not-print"

describe("validate", () => {
  it.each([
    ["x", "the plugin options must be an object"],
    [{ accounts: "x" }, "accounts must be a list of accounts"],
    [{ acounts: [] }, 'option "acounts" is not an option of tollgate (known: accounts, strategy)'],
    [{ strategy: "round-robin" }, 'strategy must be "failover" (the only strategy)'],
    [{ accounts: [{ type: "apii" }] }, 'accounts[0].type "apii" is not an account type: use "api" or "claude-code"'],
    [{ accounts: [{}] }, 'accounts[0].type is missing: use "api" or "claude-code"'],
    [{ accounts: [{ type: "claude-code" }] }, "accounts[0].configDir is missing"],
    [{ accounts: [{ type: "claude-code", configDir: " " }] }, "accounts[0].configDir must not be empty"],
    [
      { accounts: [{ type: "api", keyEnv: "TOLLGATE_TEST_UNSET" }] },
      "accounts[0].keyEnv: the environment variable TOLLGATE_TEST_UNSET is not set"
    ],
    [{ accounts: [{ type: "api" }] }, 'accounts[0] needs "keyEnv"'],
    [{ accounts: [7] }, "accounts[0] must be an object"],
    [{ accounts: [{ type: "api", keyEnv: "K", key: "k" }] }, 'accounts[0] has both "key" and "keyEnv"'],
    [
      { accounts: [{ type: "api", keyEnv: "K", keyenv: "K" }] },
      'accounts[0].keyenv is not an option of a "api" account'
    ]
  ])("%j → %s", (options, problem) => {
    const result = validate(options, { K: "sk-ant-api-k" })
    expect(result.problems.join("\n")).toContain(problem)
  })

  it("keeps every valid entry and reports each bad one by its index", () => {
    const result = validate(
      {
        accounts: [
          { type: "api", keyEnv: "GOOD" },
          { type: "bogus" },
          { type: "claude-code", configDir: "~/.claude-work" },
          { type: "api", keyEnv: "UNSET" },
          { type: "api", key: " sk-ant-api-literal " }
        ]
      },
      { GOOD: "sk-ant-api-env", HOME: "/home/u", USER: "u" }
    )
    expect(result.accounts).toMatchObject([
      { type: "api", key: "sk-ant-api-env" },
      { type: "claude-code", location: { configDir: "/home/u/.claude-work" } },
      { type: "api", key: "sk-ant-api-literal" }
    ])
    expect(result.problems).toEqual([
      'accounts[1].type "bogus" is not an account type: use "api" or "claude-code"',
      "accounts[3].keyEnv: the environment variable UNSET is not set"
    ])
  })

  it("no options, or valid ones, have no problem", () => {
    expect(validate(undefined)).toEqual({ accounts: [], problems: [] })
    expect(validate({ strategy: "failover", accounts: [] }).problems).toEqual([])
  })

  it("never repeats a value it was given: a misplaced key stays out of the message", () => {
    const result = validate({
      [SECRET]: 1,
      accounts: [{ type: "api", key: [SECRET] }, { type: "api", keyEnv: 5, [SECRET]: 1 }, { type: SECRET }],
      strategy: SECRET
    })
    const text = describeProblems(result.problems)
    expect(result.problems.length).toBeGreaterThanOrEqual(5)
    expect(text).not.toContain("SECRET")
  })
})

// opencode's SDK client as the plugin sees it: the calls are recorded, nothing crosses a wire.
const recordingClient = () => {
  const logs: Array<{ body: { service: string; level: string; message: string } }> = []
  const toasts: Array<{ body: { title?: string; message: string; variant: string } }> = []
  const client = {
    auth: { set: async () => undefined },
    app: { log: async (o: (typeof logs)[number]) => void logs.push(o) },
    tui: { showToast: async (o: (typeof toasts)[number]) => void toasts.push(o) }
  }
  return { client, logs, toasts }
}

describe("the plugin at load", () => {
  it("tells malformed options in opencode's log and a toast, and still loads", async () => {
    const { client, logs, toasts } = recordingClient()
    const hooks = await plugin.server(
      { client },
      { accounts: [{ type: "api", keyEnv: "TOLLGATE_TEST_UNSET" }, { type: "nope" }] }
    )
    expect(hooks.auth.provider).toBe("anthropic")
    expect(logs).toHaveLength(1)
    expect(logs[0]!.body).toMatchObject({ service: "tollgate", level: "warn" })
    expect(logs[0]!.body.message).toContain(
      "accounts[0].keyEnv: the environment variable TOLLGATE_TEST_UNSET is not set"
    )
    expect(logs[0]!.body.message).toContain('accounts[1].type "nope" is not an account type')
    expect(toasts).toEqual([
      { body: { title: "tollgate: plugin options", message: logs[0]!.body.message, variant: "error" } }
    ])
  })

  it("says nothing for valid options or none", async () => {
    for (const options of [undefined, { accounts: [{ type: "api", key: "sk-ant-api-x" }], strategy: "failover" }]) {
      const { client, logs, toasts } = recordingClient()
      await plugin.server({ client }, options)
      expect([logs, toasts]).toEqual([[], []])
    }
  })

  it("loads even when the client can neither log nor toast", async () => {
    const hooks = await plugin.server({ client: { auth: { set: async () => undefined } } }, { accounts: "x" })
    expect(hooks.auth.methods.map((m) => m.label)).toContain("Use my Claude Code login")
  })

  it("serves the valid account of malformed options when the first login is capped", async () => {
    const sim = await Simulator.start({ ttlMs: 120_000 })
    cleanups.push(() => sim.close())
    const dir = await tempDir()
    vi.stubEnv("TOLLGATE_API_BASE_URL", sim.url)
    vi.stubEnv("TOLLGATE_OAUTH_BASE_URL", sim.url)
    vi.stubEnv("XDG_STATE_HOME", join(dir, "state"))
    vi.stubEnv("XDG_RUNTIME_DIR", join(dir, "run"))
    vi.stubEnv("TOLLGATE_TEST_KEY", "sk-ant-api03-from-env")
    const second = sim.seed()
    const claudeDir = join(dir, "claude-work")
    await (await import("node:fs/promises")).mkdir(claudeDir, { recursive: true })
    await writeFile(
      join(claudeDir, ".credentials.json"),
      JSON.stringify({
        claudeAiOauth: {
          accessToken: second.accessToken,
          refreshToken: second.refreshToken,
          expiresAt: second.expiresAt,
          scopes: [...second.scopes],
          subscriptionType: "max"
        }
      }),
      { mode: 0o600 }
    )
    sim.script("messages", {
      status: 429,
      headers: {
        "content-type": "application/json",
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
        "anthropic-ratelimit-unified-reset": "{{epoch-s:+3600}}"
      },
      body: '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your account\'s rate limit."}}'
    })
    const { client, logs } = recordingClient()
    const hooks = await plugin.server(
      { client },
      { accounts: [{ type: "bogus" }, { type: "claude-code", configDir: claudeDir }] }
    )
    expect(logs).toHaveLength(1)
    const loaded = await hooks.auth.loader(async () => ({
      type: "oauth",
      access: sim.account.accessToken,
      refresh: sim.account.refreshToken ?? "",
      expires: sim.account.expiresAt
    }))
    expect(loaded).toMatchObject({ apiKey: "", baseURL: `${sim.url}/v1` })
    const response = await (loaded as { fetch: typeof fetch }).fetch(`${sim.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] })
    })
    expect(response.status).toBe(200)
    expect(sim.log.filter((r) => r.route === "messages").at(-1)?.bearer).toBe(fingerprint(second.accessToken))
  })
})

describe("the auth loader's baseURL", () => {
  it("follows TOLLGATE_API_BASE_URL (normalized, /v1 appended) for every login kind, and is absent without it", async () => {
    const hooks = await plugin.server({ client: { auth: { set: async () => undefined } } }, undefined)
    const oauth = async () => ({ type: "oauth", access: "sk-ant-oat01-x", refresh: "sk-ant-ort01-x", expires: 0 })
    const api = async () => ({ type: "api", key: "sk-ant-api03-x" })
    expect(await hooks.auth.loader(oauth)).not.toHaveProperty("baseURL")
    expect(await hooks.auth.loader(api)).toEqual({})
    vi.stubEnv("TOLLGATE_API_BASE_URL", "http://127.0.0.1:8787/")
    expect(await hooks.auth.loader(oauth)).toMatchObject({ apiKey: "", baseURL: "http://127.0.0.1:8787/v1" })
    expect(await hooks.auth.loader(api)).toEqual({ baseURL: "http://127.0.0.1:8787/v1" })
    expect(await hooks.auth.loader(async () => undefined)).toEqual({ baseURL: "http://127.0.0.1:8787/v1" })
  })
})
