// No secret leaks from processes: the harness and the `tollgate refresh` / `tollgate doctor` CLI,
// bundled and run as children, with their stdout, stderr, /proc/<pid>/cmdline and environ read.
import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import type { TempHome } from "@tollgate/conformance/ClaudeCode"
import type * as Simulator from "@tollgate/conformance/Simulator"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundleCli, type Child, makeWorkspace, spawnNode, type Workspace } from "./harness/bundle.js"
import { type Collector, collector, fixtures, loginDocument, scanFiles, writeStore } from "./support/secrets.js"

const { newHome, newSim } = fixtures()

let workspace: Workspace
let cli: string

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-secrets-")
  cli = await bundleCli(join(workspace.dir, "cli"))
})

afterAll(async () => {
  await workspace?.cleanup()
})

/** Waits for a child and collects its stdout, stderr, /proc cmdline and environ. */
const observe = async (c: Collector, label: string, child: Child) => {
  const cmdline = await child.cmdline
  const environ = await readFile(`/proc/${child.pid}/environ`, "latin1").catch(() => "")
  const ended = await child.ended
  // Read while it ran: an empty one would mean nothing was looked at.
  expect(cmdline, label).toMatch(/\.mjs /)
  c.see(`${label}: cmdline`, cmdline)
  c.see(`${label}: environ`, environ)
  c.see(`${label}: stdout`, ended.stdout)
  c.see(`${label}: stderr`, ended.stderr)
  return ended
}

const tollgate = (c: Collector, home: TempHome, sim: Simulator.Simulator | null, args: ReadonlyArray<string>) =>
  observe(
    c,
    `tollgate ${args.join(" ")}`,
    spawnNode(cli, args, { ...home.env, NO_COLOR: "1", ...(sim ? sim.env : {}) }, { timeoutMs: 30_000 })
  )

describe("no token leaks from processes", () => {
  it("the harness as a process: refresh success and a 429", async () => {
    const c = collector()
    for (const scenario of ["expired-access-token", "refresh-429"]) {
      const sim = await newSim(scenario, c)
      const home = await newHome()
      await writeStore(home, loginDocument(sim.account.accessToken, sim.account.refreshToken))
      const ended = await observe(
        c,
        `harness ${scenario}`,
        spawnNode(workspace.harness, ["refresh", sim.url, "-"], home.env)
      )
      expect(ended.code, ended.stderr).toBe(scenario === "refresh-429" ? 1 : 0)
      c.token(sim.current().accessToken, sim.current().refreshToken)
      await scanFiles(c, home)
    }
    c.verify()
  })

  it("the CLI: tollgate refresh (success, 429, backed off, invalid_grant, malformed) and tollgate doctor", async () => {
    const c = collector()

    const sim = await newSim("expired-access-token", c)
    const home = await newHome()
    await writeStore(home, loginDocument(sim.account.accessToken, sim.account.refreshToken))
    const refreshed = await tollgate(c, home, sim, ["refresh", "--json"])
    expect(refreshed.code, refreshed.stderr).toBe(0)
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ outcome: "Refreshed" })
    c.token(sim.current().accessToken, sim.current().refreshToken)
    expect((await tollgate(c, home, sim, ["refresh"])).code).toBe(0)
    expect((await tollgate(c, home, null, ["doctor"])).code).toBe(0)
    expect((await tollgate(c, home, null, ["doctor", "--json"])).code).toBe(0)
    await scanFiles(c, home)

    const limited = await newSim("refresh-429", c)
    const limitedHome = await newHome()
    await writeStore(limitedHome, loginDocument(limited.account.accessToken, limited.account.refreshToken))
    expect((await tollgate(c, limitedHome, limited, ["refresh"])).code).toBe(1)
    // The second run finds the backoff the first one saved.
    const backedOff = await tollgate(c, limitedHome, limited, ["refresh", "--json"])
    expect(JSON.parse(backedOff.stdout)).toMatchObject({ error: "RefreshBackedOff" })
    expect((await tollgate(c, limitedHome, null, ["doctor", "--json"])).code).toBe(0)
    await scanFiles(c, limitedHome)

    const invalid = await newSim("refresh-invalid-grant", c)
    const invalidHome = await newHome()
    await writeStore(invalidHome, loginDocument(invalid.account.accessToken, invalid.account.refreshToken))
    const dead = await tollgate(c, invalidHome, invalid, ["refresh", "--json"])
    expect(JSON.parse(dead.stdout)).toMatchObject({ error: "LoginDead" })
    expect((await tollgate(c, invalidHome, null, ["doctor"])).code).toBe(0)
    await scanFiles(c, invalidHome)

    const brokenHome = await newHome()
    const secretish = "sk-ant-oat01-sim-CliMalformedTokenAbcdefghijklmnopq"
    c.token(secretish)
    await writeStore(brokenHome, `{"claudeAiOauth":{"accessToken":"${secretish}"`)
    expect((await tollgate(c, brokenHome, sim, ["refresh"])).code).toBe(1)
    expect((await tollgate(c, brokenHome, null, ["doctor", "--json"])).code).toBe(0)
    await scanFiles(c, brokenHome)
    expect((await stat(join(brokenHome.claudeDir, ".credentials.json"))).size).toBeGreaterThan(0)

    c.verify()
  }, 60_000)
})
