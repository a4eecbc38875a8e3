// `tollgate refresh` against the simulator, with the real Claude Code as the
// judge: after our refresh, `claude auth status` (through the simulator's MITM
// proxy, in the same temp HOME) must still say loggedIn with the same plan.
import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { claudeAuthStatus } from "@tollgate/conformance/ClaudeCode"
import { startMitm } from "@tollgate/conformance/Mitm"
import * as Simulator from "@tollgate/conformance/Simulator"
import { describe, expect } from "vitest"
import { type Sandbox, test as it, tollgate } from "./tollgate.js"

const setup = async (
  sandbox: Sandbox,
  configDir: string,
  document: (login: Simulator.Issued) => Record<string, unknown>
) => {
  const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 120_000 })
  const certs = join(sandbox.root, "certs")
  await mkdir(certs, { recursive: true })
  const proxy = await startMitm({ handler: sim.listener, dir: certs, ttlMs: 120_000 })
  await mkdir(configDir, { recursive: true, mode: 0o700 })
  const before = document(sim.account)
  await writeFile(join(configDir, ".credentials.json"), JSON.stringify(before), { mode: 0o600 })
  const close = async () => {
    await proxy.close()
    await sim.close()
  }
  return { sim, proxy, before, close }
}

const login = (issued: Simulator.Issued) => ({
  accessToken: issued.accessToken,
  refreshToken: issued.refreshToken,
  expiresAt: issued.expiresAt,
  scopes: [...issued.scopes],
  subscriptionType: "max",
  rateLimitTier: "default_claude_max_20x"
})

const variants: ReadonlyArray<{
  readonly name: string
  readonly customDir: boolean
  readonly document: (issued: Simulator.Issued) => Record<string, unknown>
}> = [
  { name: "a plain record", customDir: false, document: (i) => ({ claudeAiOauth: login(i) }) },
  {
    name: "a record with mcpOAuth and other top-level keys",
    customDir: false,
    document: (i) => ({
      claudeAiOauth: { ...login(i), accountUuid: i.accountUuid, subscriptionTypeSource: "profile" },
      mcpOAuth: { "linear|1": { serverName: "linear", accessToken: "mcp-secret", expiresAt: 1 } },
      pluginSecrets: { x: "y" }
    })
  },
  {
    name: "a record without scopes, whose refresh response carries scope",
    customDir: false,
    document: (i) => {
      const { scopes: _, ...rest } = login(i)
      return { claudeAiOauth: rest }
    }
  },
  { name: "a store found via CLAUDE_CONFIG_DIR", customDir: true, document: (i) => ({ claudeAiOauth: login(i) }) }
]

describe("tollgate refresh, judged by the real claude", () => {
  for (const variant of variants) {
    it(`${variant.name}: refreshed once, then claude auth status says loggedIn with the same plan`, async ({
      sandbox
    }) => {
      const configDir = variant.customDir ? join(sandbox.root, "custom-claude") : join(sandbox.home, ".claude")
      const extra: Record<string, string> = variant.customDir ? { CLAUDE_CONFIG_DIR: configDir } : {}
      const { sim, proxy, before, close } = await setup(sandbox, configDir, variant.document)
      try {
        const run = await tollgate(sandbox, ["refresh", "--json"], { env: { ...sim.env, ...extra } })
        expect(run.code, run.stderr).toBe(0)
        expect(JSON.parse(run.stdout)).toMatchObject({ outcome: "Refreshed", backend: "file" })
        expect(sim.count("token")).toBe(1)
        for (const token of [sim.account.accessToken, sim.account.refreshToken!, sim.current().accessToken]) {
          expect(run.stdout.includes(token) || run.stderr.includes(token), "no token in the output").toBe(false)
        }
        const path = join(configDir, ".credentials.json")
        expect((await stat(path)).mode & 0o777).toBe(0o600)
        const after = JSON.parse(await readFile(path, "utf8")) as Record<string, Record<string, unknown>>
        for (const key of Object.keys(before)) expect(key in after, `top-level ${key} kept`).toBe(true)
        expect(after["claudeAiOauth"]?.["accessToken"] === sim.current().accessToken).toBe(true)

        const status = await claudeAuthStatus({ env: { ...sandbox.env, ...proxy.env, ...extra }, timeoutMs: 30_000 })
        expect(status.exitCode, status.stderr).toBe(0)
        expect(status.json?.["loggedIn"]).toBe(true)
        expect(status.json?.["subscriptionType"]).toBe("max")
        // Claude Code found a fresh token: it did not need to refresh again.
        expect(sim.count("token")).toBe(1)
      } finally {
        await close()
      }
    }, 60_000)
  }

  it("an empty HOME: a clear message and exit 1; doctor then reports that outcome, the backend and a held lock", async ({
    sandbox
  }) => {
    const run = await tollgate(sandbox, ["refresh"])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/No Claude Code login in .*\.credentials\.json; run `claude` and log in\./)
    await mkdir(join(sandbox.home, ".claude", ".oauth_refresh.lock"), { recursive: true })
    const doctor = await tollgate(sandbox, ["doctor", "--json"])
    expect(doctor.code).toBe(0)
    const report = JSON.parse(doctor.stdout)
    expect(report.store.backend).toBe("file")
    expect(report.locks).toMatchObject({ held: true, stale: false, storageWriteHeld: false })
    expect(report.lastRefresh).toMatchObject({ outcome: "NoLogin" })
  })

  // Issue 11: `tollgate/` as a symlink put refresh.json anywhere. Refused before the token is spent.
  it("a symlinked state directory: one line, exit 1, no token spent, nothing written through the link", async ({
    sandbox
  }) => {
    const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 60_000 })
    try {
      const configDir = join(sandbox.home, ".claude")
      await mkdir(configDir, { recursive: true, mode: 0o700 })
      const before = JSON.stringify({ claudeAiOauth: login(sim.account) })
      await writeFile(join(configDir, ".credentials.json"), before, { mode: 0o600 })
      const elsewhere = join(sandbox.root, "elsewhere")
      await mkdir(elsewhere, { mode: 0o700 })
      const stateDir = join(sandbox.env["XDG_STATE_HOME"]!, "tollgate")
      await symlink(elsewhere, stateDir)
      const run = await tollgate(sandbox, ["refresh"], { env: sim.env })
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(`tollgate: ${stateDir} is a symlink; refusing to follow it\n`)
      expect(sim.count("token")).toBe(0)
      expect(await readdir(elsewhere)).toEqual([])
      expect(await readFile(join(configDir, ".credentials.json"), "utf8")).toBe(before)
    } finally {
      await sim.close()
    }
  })
})
