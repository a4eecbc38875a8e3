import { once } from "node:events"
import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { describe, expect } from "vitest"
import { start, test as it, tollgate } from "./tollgate.js"

describe("tollgate sim", () => {
  it("--list names a catalog of at least 30 scenarios", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["sim", "--list"])
    expect(run.code).toBe(0)
    const count = Number(/^(\d+) scenarios:/.exec(run.stdout)?.[1])
    expect(count).toBeGreaterThanOrEqual(30)
    expect(run.stdout).toMatch(/retry-after-zero-persists/)
  })

  it("serves on 127.0.0.1, prints the base URLs, writes the port and the login, and stops at its TTL", async ({ sandbox }) => {
    const portFile = join(sandbox.root, "port")
    const credentialsDir = join(sandbox.home, ".claude")
    const child = start(sandbox, ["sim", "--scenario", "missing-profile-scope", "--ttl", "3", "--port-file", portFile, "--credentials-dir", credentialsDir])
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    const exited = once(child, "close")
    while (!/TOLLGATE_OAUTH_BASE_URL/.test(stdout) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50))
    const url = /TOLLGATE_API_BASE_URL=(\S+)/.exec(stdout)?.[1]
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(`http://127.0.0.1:${(await readFile(portFile, "utf8")).trim()}`).toBe(url)

    const store = join(credentialsDir, ".credentials.json")
    expect((await stat(store)).mode & 0o777).toBe(0o600)
    // Created like Claude Code's own config dir: 0700, not 0755.
    expect((await stat(credentialsDir)).mode & 0o777).toBe(0o700)
    const login = JSON.parse(await readFile(store, "utf8")).claudeAiOauth
    // The scenario's login lacks user:profile: the simulator enforces it.
    const usage = await fetch(`${url}/api/oauth/usage`, {
      headers: { authorization: `Bearer ${login.accessToken}`, "user-agent": "claude-code/2.1.330" }
    })
    expect(usage.status).toBe(403)
    expect(await usage.text()).toMatch(/scope requirement/)

    const [code] = await exited
    expect(code).toBe(0)
  })

  it("refuses to overwrite an existing credentials file", async ({ sandbox }) => {
    const dir = join(sandbox.home, ".claude")
    await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }))
    await writeFile(join(dir, ".credentials.json"), '{"mcpOAuth":{}}')
    const run = await tollgate(sandbox, ["sim", "--ttl", "2", "--credentials-dir", dir])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/refusing to overwrite/)
    expect(await readFile(join(dir, ".credentials.json"), "utf8")).toBe('{"mcpOAuth":{}}')
  })

  // Issue 11: a dangling link was written through, creating its target.
  it("refuses a dangling .credentials.json link in one line and never creates its target", async ({ sandbox }) => {
    const dir = join(sandbox.home, ".claude")
    await mkdir(dir, { mode: 0o700 })
    const target = join(sandbox.root, "elsewhere", "planted.json")
    await mkdir(dirname(target))
    await symlink(target, join(dir, ".credentials.json"))
    const run = await tollgate(sandbox, ["sim", "--ttl", "2", "--credentials-dir", dir])
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(`tollgate sim: ${join(dir, ".credentials.json")} is a symlink; refusing to write through it\n`)
    expect(await readdir(dirname(target))).toEqual([])
    expect(await readdir(dir)).toEqual([".credentials.json"])
  })

  it("refuses a symlinked --credentials-dir in one line", async ({ sandbox }) => {
    const elsewhere = join(sandbox.root, "elsewhere")
    await mkdir(elsewhere)
    const dir = join(sandbox.home, ".claude")
    await symlink(elsewhere, dir)
    const run = await tollgate(sandbox, ["sim", "--ttl", "2", "--credentials-dir", dir])
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(`tollgate sim: ${dir} is a symlink; refusing to follow it\n`)
    expect(await readdir(elsewhere)).toEqual([])
  })

  it("an unknown scenario is a usage error", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["sim", "--scenario", "nope"])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/unknown scenario "nope"/)
  })
})

describe("tollgate conformance", () => {
  it("runs the matrix on the embedded simulator, writes both reports and exits 0 when all pass", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["conformance", "--report-dir", join(sandbox.root, "reports")], {})
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/conformance: \d+ passed, 0 failed, \d+ not applicable — \d+ scenarios/)
    const report = JSON.parse(await readFile(join(sandbox.root, "reports/conformance-report.json"), "utf8"))
    expect(report.totals.fail).toBe(0)
    expect(report.totals.pass).toBeGreaterThan(50)
    expect(report.scenarios).toBeGreaterThanOrEqual(30)
    expect(await readFile(join(sandbox.root, "reports/conformance-report.md"), "utf8")).toMatch(/^# tollgate conformance report/)
  }, 60_000)
})
