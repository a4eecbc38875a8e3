// `tollgate token` as a process: real credential files in a temp HOME, the
// simulator over real HTTP on 127.0.0.1, and the simulator's own count of
// token POSTs as the judge of how often the refresh token was spent.
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Credential } from "@tollgate/core"
import * as Simulator from "@tollgate/conformance/Simulator"
import { describe, expect } from "vitest"
import { type Run, type Sandbox, test as it, tollgate } from "./tollgate.js"

const MINUTE = 60_000

/** A simulator whose login expires in `expiresInMs` (or a catalog scenario), written to `~/.claude`. */
const setup = async (sandbox: Sandbox, scenario: number | string) => {
  const sim = await Simulator.start({
    scenario:
      typeof scenario === "string"
        ? scenario
        : { name: "token-test", summary: "a login with a chosen expiry", account: { expiresInMs: scenario } },
    ttlMs: 120_000
  })
  const configDir = join(sandbox.home, ".claude")
  await mkdir(configDir, { recursive: true, mode: 0o700 })
  const record = {
    accessToken: sim.account.accessToken,
    refreshToken: sim.account.refreshToken,
    expiresAt: sim.account.expiresAt,
    scopes: [...sim.account.scopes],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x",
    subscriptionTypeSource: "profile"
  }
  const file = join(configDir, ".credentials.json")
  const mcpOAuth = { "linear|1": { serverName: "linear", accessToken: "mcp-not-ours", expiresAt: 1 } }
  await writeFile(file, JSON.stringify({ claudeAiOauth: record, mcpOAuth }), { mode: 0o600 })
  const stored = async () =>
    JSON.parse(await readFile(file, "utf8")) as { claudeAiOauth: Record<string, unknown>; mcpOAuth: unknown }
  const run = (args: ReadonlyArray<string>) => tollgate(sandbox, ["token", ...args], { env: sim.env })
  return { sim, record, mcpOAuth, stored, run }
}

/** Every token the simulator has issued for the account, old and new. */
const tokensOf = (sim: Simulator.Simulator, record: { accessToken: string; refreshToken: string | null }) =>
  [record.accessToken, record.refreshToken, sim.current().accessToken, sim.current().refreshToken].filter(
    (t): t is string => typeof t === "string"
  )

const noTokenIn = (text: string, tokens: ReadonlyArray<string>) => {
  for (const t of tokens) expect(text.includes(t), "no token in this output").toBe(false)
}

/** A failed run: nothing on stdout, exactly one line on stderr. */
const oneLineError = (run: Run) => {
  expect(run.stdout).toBe("")
  expect(run.stderr.endsWith("\n")).toBe(true)
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1)
}

describe("tollgate token", () => {
  it("a token valid beyond --min-valid: printed as is, no token POST, nothing on stderr", async ({ sandbox }) => {
    const { sim, record, run } = await setup(sandbox, "happy-path")
    try {
      const result = await run([])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout === `${record.accessToken}\n`, "stdout is the stored token and a newline").toBe(true)
      expect(result.stderr).toBe("")
      expect(sim.count("token")).toBe(0)
    } finally {
      await sim.close()
    }
  })

  it("valid for 10 min: left alone at the default 300 s, refreshed once at --min-valid 900, every other field kept", async ({
    sandbox
  }) => {
    const { sim, record, mcpOAuth, stored, run } = await setup(sandbox, 10 * MINUTE)
    try {
      const first = await run([])
      expect(first.code, first.stderr).toBe(0)
      expect(first.stdout === `${record.accessToken}\n`).toBe(true)
      expect(sim.count("token")).toBe(0)

      const second = await run(["--min-valid", "900"])
      expect(second.code, second.stderr).toBe(0)
      expect(sim.count("token")).toBe(1)
      const fresh = sim.current().accessToken
      expect(fresh === record.accessToken).toBe(false)
      expect(second.stdout === `${fresh}\n`, "stdout is the refreshed token").toBe(true)
      expect(second.stderr).toBe("")
      const after = await stored()
      expect(after.claudeAiOauth["accessToken"] === fresh).toBe(true)
      expect(after.claudeAiOauth).toMatchObject({
        subscriptionType: "max",
        rateLimitTier: "default_claude_max_20x",
        subscriptionTypeSource: "profile",
        scopes: record.scopes
      })
      expect(after.mcpOAuth).toEqual(mcpOAuth)
    } finally {
      await sim.close()
    }
  })

  it("--if-token with the stored token's fingerprint refreshes; with an older one prints the newer token with 0 POSTs", async ({
    sandbox
  }) => {
    const { sim, record, run } = await setup(sandbox, "happy-path")
    try {
      const rejected = await run(["--if-token", Credential.fingerprint(record.accessToken), "--json"])
      expect(rejected.code, rejected.stderr).toBe(0)
      expect(sim.count("token")).toBe(1)
      const fresh = sim.current().accessToken
      expect(JSON.parse(rejected.stdout)).toMatchObject({
        outcome: "Refreshed",
        fingerprint: Credential.fingerprint(fresh)
      })
      expect(JSON.parse(rejected.stdout).accessToken === fresh).toBe(true)

      // A second client that also got a 401 with the old token: the store already holds a newer one.
      const late = await run(["--if-token", Credential.fingerprint(record.accessToken)])
      expect(late.code, late.stderr).toBe(0)
      expect(late.stdout === `${fresh}\n`, "the newer stored token").toBe(true)
      expect(sim.count("token")).toBe(1)
    } finally {
      await sim.close()
    }
  })

  it("5 concurrent `tollgate token --min-valid 999999` on one expiring store: exactly 1 token POST, all print the same token", async ({
    sandbox
  }) => {
    const { sim, record, stored, run } = await setup(sandbox, 2 * MINUTE)
    try {
      const runs = await Promise.all(Array.from({ length: 5 }, () => run(["--min-valid", "999999"])))
      for (const [i, r] of runs.entries()) expect(r.code, `run ${i}: ${r.stderr}`).toBe(0)
      expect(sim.count("token")).toBe(1)
      const fresh = sim.current().accessToken
      expect(fresh === record.accessToken).toBe(false)
      for (const r of runs) expect(r.stdout === `${fresh}\n`, "every run printed the one refreshed token").toBe(true)
      expect((await stored()).claudeAiOauth["accessToken"] === fresh).toBe(true)
    } finally {
      await sim.close()
    }
  }, 60_000)

  it("--json: {accessToken, expiresAt, fingerprint, outcome} and nothing else", async ({ sandbox }) => {
    const { sim, record, run } = await setup(sandbox, "happy-path")
    try {
      const result = await run(["--json"])
      expect(result.code, result.stderr).toBe(0)
      const printed = JSON.parse(result.stdout) as Record<string, unknown>
      expect(Object.keys(printed).sort()).toEqual(["accessToken", "expiresAt", "fingerprint", "outcome"])
      expect(printed["accessToken"] === record.accessToken).toBe(true)
      expect(printed).toMatchObject({
        expiresAt: record.expiresAt,
        fingerprint: Credential.fingerprint(record.accessToken),
        outcome: "NotNeeded"
      })
      expect(result.stderr).toBe("")
    } finally {
      await sim.close()
    }
  })

  it("a dead login: exit 1, one line on stderr, no token anywhere, the store untouched", async ({ sandbox }) => {
    const { sim, record, stored, run } = await setup(sandbox, "rotated-by-another-process")
    try {
      const before = await stored()
      const result = await run(["--json"])
      expect(result.code).toBe(1)
      oneLineError(result)
      expect(result.stderr).toMatch(/^tollgate token: The refresh token in .*\.credentials\.json is no longer valid/)
      noTokenIn(result.stdout + result.stderr, tokensOf(sim, record))
      expect(await stored()).toEqual(before)
    } finally {
      await sim.close()
    }
  })

  it("a token passed to --if-token by mistake: exit 2, one line that does not echo it, no call", async ({
    sandbox
  }) => {
    const { sim, record, run } = await setup(sandbox, "happy-path")
    try {
      const result = await run(["--if-token", record.accessToken])
      expect(result.code).toBe(2)
      oneLineError(result)
      expect(result.stderr).toMatch(/^tollgate token: --if-token takes a token's fingerprint/)
      noTokenIn(result.stderr, tokensOf(sim, record))
      expect(sim.count("token")).toBe(0)
    } finally {
      await sim.close()
    }
  })

  it("no login: the exit code and message `tollgate refresh` gives, on one line", async ({ sandbox }) => {
    const token = await tollgate(sandbox, ["token"])
    const refresh = await tollgate(sandbox, ["refresh"])
    expect(token.code).toBe(1)
    expect(token.code).toBe(refresh.code)
    oneLineError(token)
    expect(token.stderr).toMatch(
      /^tollgate token: No Claude Code login in .*\.credentials\.json; run `claude` and log in\.\n$/
    )
    expect(token.stderr.replace("tollgate token:", "")).toBe(refresh.stderr.replace("tollgate refresh:", ""))
  })
})
