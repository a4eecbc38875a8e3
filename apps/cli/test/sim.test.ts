import { anthropicOAuth, findOpenCodeBinary, makeOpenCodeHome, opencodeRun } from "@tollgate/conformance/OpenCode"
import { execFile } from "node:child_process"
import { once } from "node:events"
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { promisify } from "node:util"
import { describe, expect } from "vitest"
import { bundle } from "@tollgate/opencode/build"
import { start, test as it, tollgate, tollgateIn } from "./tollgate.js"

const binary = findOpenCodeBinary({ installDirs: ["/tmp/oc"] })
const RUN_TIMEOUT = 90_000

describe("tollgate sim", () => {
  it("--list names a catalog of at least 30 scenarios", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["sim", "--list"])
    expect(run.code).toBe(0)
    const count = Number(/^(\d+) scenarios:/.exec(run.stdout)?.[1])
    expect(count).toBeGreaterThanOrEqual(30)
    expect(run.stdout).toMatch(/retry-after-zero-persists/)
  })

  it("serves on 127.0.0.1, prints the base URLs, writes the port and the login, and stops at its TTL", async ({
    sandbox
  }) => {
    const portFile = join(sandbox.root, "port")
    const credentialsDir = join(sandbox.home, ".claude")
    const child = start(sandbox, [
      "sim",
      "--scenario",
      "missing-profile-scope",
      "--ttl",
      "3",
      "--port-file",
      portFile,
      "--credentials-dir",
      credentialsDir
    ])
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    const exited = once(child, "close")
    while (!/TOLLGATE_OAUTH_BASE_URL/.test(stdout) && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 50))
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

  // Issue 12 row 8: the printed exports did not redirect opencode's message requests.
  it(
    "the printed exports, evaluated by sh, point the real opencode with the tollgate plugin at the simulator",
    async ({ sandbox }) => {
      expect(binary, "opencode-ai should be installed by pnpm install").toBeDefined()
      const credentialsDir = join(sandbox.root, "claude")
      const child = start(sandbox, ["sim", "--ttl", "120", "--credentials-dir", credentialsDir])
      let stdout = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      const exited = once(child, "close")
      const dist = await mkdtemp(join(tmpdir(), "tollgate-cli-sim-opencode-"))
      try {
        while (!/TOLLGATE_OAUTH_BASE_URL/.test(stdout) && child.exitCode === null)
          await new Promise((r) => setTimeout(r, 50))
        // What a user's shell makes of the lines (comments and quoting included).
        const { stdout: env } = await promisify(execFile)("sh", ["-c", `${stdout}\nenv`], {
          env: { PATH: sandbox.env["PATH"] }
        })
        const exported = Object.fromEntries(
          env
            .split("\n")
            .flatMap((line) =>
              /^(TOLLGATE_\w+|OPENCODE_CONFIG_CONTENT)=/.test(line) ? [line.split(/=(.*)/s).slice(0, 2)] : []
            )
        ) as Record<string, string>
        const url = exported["TOLLGATE_API_BASE_URL"]!
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(exported["TOLLGATE_OAUTH_BASE_URL"]).toBe(url)
        expect(exported["TOLLGATE_AUTHORIZE_URL"]).toBe(`${url}/oauth/authorize`)
        // The login page the OAuth method opens answers with a code to paste.
        const page = await fetch(
          `${exported["TOLLGATE_AUTHORIZE_URL"]}?code_challenge_method=S256&code_challenge=c&state=s`
        )
        expect(await page.text()).toMatch(/^simcode_\w+#s$/)

        const plugin = join(dist, "tollgate-opencode.js")
        await bundle(plugin)
        const login = JSON.parse(await readFile(join(credentialsDir, ".credentials.json"), "utf8")).claudeAiOauth
        // No provider baseURL in any config file: only the exports point opencode at the simulator.
        const home = await makeOpenCodeHome({
          baseURL: "http://127.0.0.1:9/v1",
          plugin,
          auth: anthropicOAuth(login),
          env: exported
        })
        try {
          const config = JSON.parse(await readFile(join(home.project, "opencode.json"), "utf8"))
          delete config.provider
          await writeFile(join(home.project, "opencode.json"), JSON.stringify(config, null, 2))
          const run = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })
          expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
          expect(run.stdout).toContain("Hello from the tollgate simulator.")
          // The plugin's OAuth login follows TOLLGATE_API_BASE_URL alone (its loader sets the baseURL).
          const { OPENCODE_CONFIG_CONTENT: _, ...withoutConfig } = home.env
          const plain = await opencodeRun({
            home: { ...home, env: withoutConfig },
            prompt: "hi",
            title: "t",
            timeoutMs: RUN_TIMEOUT,
            binary
          })
          expect(plain.exitCode, `${plain.text}\n${await home.readLogs()}`).toBe(0)
          expect(plain.stdout).toContain("Hello from the tollgate simulator.")
          // An API-key login is opencode's own request path: OPENCODE_CONFIG_CONTENT is what points it here.
          await writeFile(
            home.authFile,
            JSON.stringify({ anthropic: { type: "api", key: "sk-ant-api03-simulator" } }),
            { mode: 0o600 }
          )
          const apiKey = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })
          expect(apiKey.exitCode, `${apiKey.text}\n${await home.readLogs()}`).toBe(0)
          expect(apiKey.stdout).toContain("Hello from the tollgate simulator.")
        } finally {
          await home.cleanup()
        }
      } finally {
        child.kill("SIGINT")
        await exited
        await rm(dist, { recursive: true, force: true })
      }
    },
    2 * RUN_TIMEOUT
  )

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
    expect(run.stderr).toBe(
      `tollgate sim: ${join(dir, ".credentials.json")} is a symlink; refusing to write through it\n`
    )
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
  it("runs the matrix on the embedded simulator, writes both reports and exits 0 when all pass", async ({
    sandbox
  }) => {
    // The whole matrix (two adapters' Keychain and rotation cases hold a token answer for seconds): more than the
    // 20 s a single command gets, within the test's own 60 s.
    const run = await tollgateIn(
      sandbox.root,
      sandbox.env,
      ["conformance", "--report-dir", join(sandbox.root, "reports")],
      55_000
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/conformance: \d+ passed, 0 failed, \d+ not applicable — \d+ scenarios/)
    const report = JSON.parse(await readFile(join(sandbox.root, "reports/conformance-report.json"), "utf8"))
    expect(report.totals.fail).toBe(0)
    expect(report.totals.pass).toBeGreaterThan(50)
    expect(report.scenarios).toBeGreaterThanOrEqual(30)
    expect(await readFile(join(sandbox.root, "reports/conformance-report.md"), "utf8")).toMatch(
      /^# tollgate conformance report/
    )
  }, 60_000)
})
