import { LoginDiscovery, StoreLocation } from "@tollgate/claude-credentials"
import { fakeSecurityVars, writeFakeKeychain, writeFakeSecurity } from "@tollgate/claude-credentials/test/fakeSecurity"
import { Credential, Scopes } from "@tollgate/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect as globalExpect, test as inProcess } from "vitest"
import pkg from "../package.json" with { type: "json" }
import * as DoctorReport from "../src/DoctorReport.js"
import { type Run, type Sandbox, test as it, tollgateBuilt } from "./tollgate.js"

// Distinctive fixture secrets: none of them may ever appear in doctor's output.
const ACCESS = "sk-ant-oat01-FixtureAccessToken-9f8e7d6c5b4a3210"
const REFRESH = "sk-ant-ort01-FixtureRefreshToken-1a2b3c4d5e6f7788"
const SETUP_TOKEN = "sk-ant-oat01-FixtureSetupToken-00112233445566"
const MCP_SECRET = "mcp-FixtureMcpSecret-99aabbccdd"
const SECRETS = [ACCESS, REFRESH, SETUP_TOKEN, MCP_SECRET]

const HOUR = 3_600_000

const record = (overrides: Record<string, unknown> = {}) => ({
  accessToken: ACCESS,
  refreshToken: REFRESH,
  expiresAt: Date.now() + 8 * HOUR,
  scopes: Scopes.login,
  subscriptionType: "max",
  rateLimitTier: "default_claude_max_20x",
  ...overrides
})

/** Writes `<dir>/.credentials.json` with an exact mode (umask would loosen or tighten it). */
const writeStore = async (dir: string, content: unknown, mode = 0o600): Promise<string> => {
  await mkdir(dir, { recursive: true })
  const path = join(dir, ".credentials.json")
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content))
  await chmod(path, mode)
  return path
}

/** Runs doctor and checks what every run must keep to: exit 0, a quiet stderr, no secret printed. */
const doctor = async (
  sandbox: Sandbox,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {}
): Promise<Run> => {
  const run = await tollgateBuilt(sandbox, ["doctor", ...args], { env })
  globalExpect(run.code, run.stderr).toBe(0)
  globalExpect(run.stderr).toBe("")
  for (const secret of SECRETS) {
    globalExpect(run.stdout + run.stderr).not.toContain(secret)
    // A fragment is as bad as the whole: check each token's distinctive middle too.
    globalExpect(run.stdout + run.stderr).not.toContain(secret.slice(13, 30))
  }
  return run
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read doctor's JSON by its documented field names; expect() checks each value
const json = (run: Run): Record<string, any> => JSON.parse(run.stdout) as Record<string, any>

describe.concurrent("tollgate doctor", () => {
  it("says plainly that there is no login when nothing is found", async ({ expect, sandbox }) => {
    const run = await doctor(sandbox, [])
    const path = join(sandbox.home, ".claude", ".credentials.json")
    expect(run.stdout.split("\n")[0]).toBe(
      `No Claude Code login found in ${path} and CLAUDE_CODE_OAUTH_TOKEN is not set; run \`claude\` and log in.`
    )
    expect(run.stdout).toMatch(
      /Store and locks\n {2}store +file \(the file is the only store on this platform\)\n {2}refresh lock +free/
    )
  })

  it("--json reports a full login: every capability usable, fingerprint only", async ({ expect, sandbox }) => {
    const stored = record()
    const path = await writeStore(join(sandbox.home, ".claude"), { claudeAiOauth: stored, mcpOAuth: { x: MCP_SECRET } })
    const report = json(await doctor(sandbox, ["--json"]))
    expect(report).toEqual({
      found: true,
      reason: null,
      detail: null,
      source: "file",
      path,
      mode: "0600",
      keychainService: null,
      scopes: Scopes.login,
      scopesKnown: true,
      expiresAt: stored.expiresAt,
      expired: false,
      subscriptionType: "max",
      rateLimitTier: "default_claude_max_20x",
      hasRefreshToken: true,
      fingerprint: Credential.fingerprint(ACCESS),
      capabilities: {
        inference: { usable: true, missingScope: null },
        usage: { usable: true, missingScope: null },
        profile: { usable: true, missingScope: null },
        remote_control: { usable: true, missingScope: null }
      },
      warnings: [],
      store: { backend: "file", backends: ["file"], why: "the file is the only store on this platform" },
      locks: { held: false, stale: false, ageMs: null, owner: null, legacyHeld: false, storageWriteHeld: false },
      lastRefresh: null,
      daemon: {
        socket: join(sandbox.env["XDG_RUNTIME_DIR"]!, "tollgate", "daemon.sock"),
        running: false,
        pid: null,
        refused: null
      },
      hermes: { home: join(sandbox.home, ".hermes"), installed: false, loadedAt: null, plugin: null, reason: null },
      opencode: { plugins: [], installs: `@tollgate/opencode@${pkg.version}` }
    })
  })

  it("lists tollgate's opencode plugin in either form it is installed in, and says when the pin is not this CLI's", async ({
    expect,
    sandbox
  }) => {
    const global = join(sandbox.home, ".config", "opencode", "opencode.jsonc")
    await mkdir(join(global, ".."), { recursive: true })
    await writeFile(global, '{\n  // mine\n  "plugin": ["other", "@tollgate/opencode@0.0.0-older"]\n}\n')
    const project = join(sandbox.root, "opencode.json")
    const bundle = "file:///checkout/packages/opencode/dist/tollgate-opencode.js"
    await writeFile(project, JSON.stringify({ plugin: [[bundle, { a: 1 }]] }))
    const [text, report] = await Promise.all([doctor(sandbox, []), doctor(sandbox, ["--json"])])
    expect(json(report)["opencode"]).toEqual({
      plugins: [
        { scope: "global", path: global, spec: "@tollgate/opencode@0.0.0-older", form: "package" },
        { scope: "project", path: project, spec: bundle, form: "file" }
      ],
      installs: `@tollgate/opencode@${pkg.version}`
    })
    expect(text.stdout).toContain(
      `opencode (global)   @tollgate/opencode@0.0.0-older in ${global}: the package; this CLI installs @tollgate/opencode@${pkg.version}`
    )
    expect(text.stdout).toContain(`opencode (project)  ${bundle} in ${project}: a file:// bundle`)
  })

  it("--json: a record without a scopes field has unknown scopes and is not logged in", async ({ expect, sandbox }) => {
    const { scopes: _dropped, ...withoutScopes } = record()
    await writeStore(join(sandbox.home, ".claude"), { claudeAiOauth: withoutScopes })
    const report = json(await doctor(sandbox, ["--json"]))
    expect(report).toMatchObject({ found: true, scopes: null, scopesKnown: false })
    expect(report["capabilities"]["usage"]).toEqual({ usable: null, missingScope: null })
    expect(report["warnings"]).toEqual([expect.stringContaining("not logged in")])
  })

  it("in plain words: empty scopes, a loose mode, expiry inside the 5-minute skew", async ({ expect, sandbox }) => {
    await writeStore(
      join(sandbox.home, ".claude"),
      { claudeAiOauth: record({ scopes: [], expiresAt: Date.now() + 3 * 60_000 }) },
      0o644
    )
    const { stdout } = await doctor(sandbox, [])
    expect(stdout).toMatch(/^ {2}scopes +none$/m)
    expect(stdout).toContain("scopes do not include user:inference: Claude Code treats it as not logged in")
    expect(stdout).toContain("has mode 0644; it should be 0600")
    expect(stdout).toMatch(/expired by Claude Code's rule: expiresAt is in [23] min.*5 minutes before expiresAt/)
    expect(stdout).toMatch(/read quota from the usage endpoint +no, missing scope user:profile/)
    expect(stdout).toContain(Credential.fingerprint(ACCESS))
  })

  it("follows CLAUDE_CONFIG_DIR, and CLAUDE_SECURESTORAGE_CONFIG_DIR wins over it", async ({ expect, sandbox }) => {
    await writeStore(join(sandbox.home, ".claude"), { claudeAiOauth: record({ subscriptionType: "pro" }) })
    const configPath = await writeStore(join(sandbox.root, "config"), {
      claudeAiOauth: record({ subscriptionType: "team" })
    })
    const securePath = await writeStore(join(sandbox.root, "secure"), {
      claudeAiOauth: record({ subscriptionType: "enterprise" })
    })
    const [config, secure] = await Promise.all([
      doctor(sandbox, ["--json"], { CLAUDE_CONFIG_DIR: join(sandbox.root, "config") }),
      doctor(sandbox, ["--json"], {
        CLAUDE_CONFIG_DIR: join(sandbox.root, "config"),
        CLAUDE_SECURESTORAGE_CONFIG_DIR: join(sandbox.root, "secure")
      })
    ])
    expect(json(config)).toMatchObject({ found: true, source: "file", path: configPath, subscriptionType: "team" })
    expect(json(secure)).toMatchObject({
      found: true,
      source: "file",
      path: securePath,
      subscriptionType: "enterprise"
    })
  })

  it("CLAUDE_CODE_OAUTH_TOKEN is a setup-token: inference only, preferred to the file", async ({ expect, sandbox }) => {
    await writeStore(join(sandbox.home, ".claude"), { claudeAiOauth: record() })
    const report = json(await doctor(sandbox, ["--json"], { CLAUDE_CODE_OAUTH_TOKEN: SETUP_TOKEN }))
    expect(report).toMatchObject({
      found: true,
      source: "environment",
      path: null,
      scopes: ["user:inference"],
      scopesKnown: true,
      expiresAt: null,
      expired: null,
      hasRefreshToken: false,
      fingerprint: Credential.fingerprint(SETUP_TOKEN),
      capabilities: {
        inference: { usable: true, missingScope: null },
        usage: { usable: false, missingScope: "user:profile" },
        remote_control: { usable: false, missingScope: "user:sessions:claude_code" }
      }
    })
  })

  // A file holding only mcpOAuth, and every other reason, is covered in claude-credentials' LoginDiscovery.test.ts.
  it("survives a garbage file without echoing it", async ({ expect, sandbox }) => {
    // Truncated JSON that contains a token: Node's parser would quote it in its error.
    await writeStore(join(sandbox.home, ".claude"), `{"claudeAiOauth":{"accessToken":"${ACCESS}","refreshTo`)
    const [text, report] = await Promise.all([doctor(sandbox, []), doctor(sandbox, ["--json"])])
    expect(text.stdout).toMatch(/^No Claude Code login found in .*: the file is not valid JSON\. /)
    expect(json(report)).toMatchObject({ found: false, reason: "not_json", source: null, fingerprint: null })
  })

  // Issue 11: another user's tollgate/ on a shared XDG_RUNTIME_DIR. chown to another uid needs root (CI and here run as root).
  it.runIf(process.geteuid?.() === 0)(
    "says why statuslines show `daemon down` when the runtime directory is another user's",
    async ({ expect, sandbox }) => {
      const dir = join(sandbox.env["XDG_RUNTIME_DIR"]!, "tollgate")
      await mkdir(dir, { mode: 0o700 })
      // What that user's daemon would have published: never to be read or shown.
      await writeFile(
        join(dir, "status.json"),
        JSON.stringify({
          v: 1,
          pid: process.pid,
          answeredAt: Date.now(),
          seen: null,
          quota: { windows: { fiveHour: { usedPercent: 77, resetsAt: null } } }
        })
      )
      await chown(dir, 12345, 12345)
      const why = `${dir} belongs to uid 12345, not to you (uid 0); refusing to use it`
      const [text, report] = await Promise.all([doctor(sandbox, []), doctor(sandbox, ["--json"])])
      // The Hermes Agent section follows.
      expect(
        text.stdout.includes(`\nUsage daemon\n  daemon  down for statuslines: ${why}\n\nHermes Agent\n`),
        text.stdout
      ).toBe(true)
      expect(json(report)["daemon"]).toEqual({
        socket: join(dir, "daemon.sock"),
        running: false,
        pid: null,
        refused: why
      })
      const statusline = await tollgateBuilt(sandbox, ["statusline"], { stdin: "{}" })
      expect(statusline).toMatchObject({ code: 0, stdout: "🚦 daemon down\n", stderr: "" })
    }
  )
})

// In-process: a spawned CLI on Linux has no Keychain, and the discovery's platform is injectable only here.
describe("doctor's report of a discovered login", () => {
  const withHome = async <A>(use: (home: string) => Promise<A>): Promise<A> => {
    const home = await mkdtemp(join(tmpdir(), "tollgate-doctor-report-"))
    try {
      return await use(home)
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  }

  const discover = (env: Record<string, string>, options: LoginDiscovery.Options) =>
    Effect.runPromise(
      LoginDiscovery.discoverWith(options).pipe(Effect.withConfigProvider(ConfigProvider.fromJson(env)))
    )

  inProcess("on macOS says the login is in the Keychain, which Claude Code reads before the file", ({ expect }) =>
    withHome(async (home) => {
      await writeStore(join(home, ".claude"), { claudeAiOauth: record({ subscriptionType: "pro" }) })
      const location = StoreLocation.resolve({ HOME: home, USER: "jane" })
      // claude-credentials' fake `security`: a Keychain in a JSON file, the same command line as the real one.
      const keychain = join(home, "keychain.json")
      await writeFakeKeychain(keychain, [
        { service: location.keychainService, account: "jane", password: JSON.stringify({ claudeAiOauth: record() }) }
      ])
      const security = await writeFakeSecurity(join(home, "security"), fakeSecurityVars(keychain, join(home, "log")))
      const found = await discover({ HOME: home, USER: "jane" }, { platform: "darwin", securityPath: security })
      const now = Date.now()
      const report = DoctorReport.make(found, now)
      expect(report).toMatchObject({
        found: true,
        source: "keychain",
        path: null,
        keychainService: location.keychainService,
        subscriptionType: "max"
      })
      const words = DoctorReport.render(report, now)
      expect(words).toContain(
        `macOS Keychain (item "${location.keychainService}", which Claude Code reads before the file)`
      )
      for (const secret of SECRETS) {
        expect(words + JSON.stringify(report)).not.toContain(secret)
        expect(words + JSON.stringify(report)).not.toContain(secret.slice(13, 30))
      }
    })
  )

  inProcess("warns that a blanked login (after a refused refresh) has an empty access token", ({ expect }) =>
    withHome(async (home) => {
      // What Claude Code writes back after invalid_grant (reference, section 3).
      await writeStore(join(home, ".claude"), {
        claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0, scopes: ["user:inference"] }
      })
      const report = DoctorReport.make(await discover({ HOME: home }, { platform: "linux" }), Date.now())
      expect(report.expired).toBe(true)
      expect(report.warnings.join("\n")).toContain("The access token is empty")
    })
  )
})
