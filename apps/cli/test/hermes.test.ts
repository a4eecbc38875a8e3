// `tollgate hermes install|uninstall`, judged by Hermes Agent's own credential code (the pinned copy in
// ../shared/realclients, on Debian's python3) against the simulator behind the HTTPS MITM proxy: every
// Hermes path's token POSTs are counted by who sent them. Plus the file edits on their own: comments and
// other settings kept, backups, dry run, refusal, idempotence, uninstall.
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Credential } from "@tollgate/core"
import { describe, expect } from "vitest"
import {
  builtDispatcher,
  collect,
  expectFastCommand,
  type Sandbox,
  test as it,
  tollgate,
  tollgateBuilt
} from "./tollgate.js"
import { hermesWorld, type HermesWorld, MODES, PYTHON, runHermes, tokenPosts } from "./support/hermes.js"

const PORT = 47433
const GATEWAY = `http://127.0.0.1:${PORT}/anthropic`
// Within Hermes's own refresh margins (60 s for resolve, 120 s for the pool), so without tollgate every path refreshes.
const EXPIRING_MS = 30_000

const install = (world: HermesWorld, ...args: ReadonlyArray<string>) =>
  tollgateBuilt(world.sandbox, ["hermes", "install", "--port", String(PORT), ...args], { env: world.env })

const withWorld = async (sandbox: Sandbox, body: (world: HermesWorld) => Promise<void>) => {
  const world = await hermesWorld(sandbox, EXPIRING_MS)
  try {
    await body(world)
  } finally {
    await world.close()
  }
}

describe("Hermes's own paths against the simulator", () => {
  it("without tollgate, every Hermes path refreshes Claude Code's login itself (so the judge below can fail)", async ({
    sandbox
  }) => {
    for (const mode of MODES) {
      const sub = { ...sandbox, root: join(sandbox.root, mode) }
      await mkdir(sub.root, { recursive: true })
      await withWorld(sub, async (world) => {
        const { run, result } = await runHermes(world, mode)
        expect(run.code, `${mode}: ${run.stderr}`).toBe(0)
        expect(result?.ok, `${mode} got a token`).toBe(true)
        expect(tokenPosts(world.sim).hermes, `${mode}: Hermes's own token POSTs`).toBeGreaterThanOrEqual(1)
        // Hermes's write-back keeps four fields only.
        expect((await world.stored()).claudeAiOauth["subscriptionType"], mode).toBeUndefined()
      })
    }
  }, 120_000)

  it("after `tollgate hermes install`: 0 token POSTs of Hermes's own on every path, runtime at the gateway, the login whole", async ({
    sandbox
  }) => {
    for (const mode of MODES) {
      const sub = { ...sandbox, root: join(sandbox.root, mode) }
      await mkdir(sub.root, { recursive: true })
      await withWorld(sub, async (world) => {
        const installed = await install(world)
        expect(installed.code, installed.stderr).toBe(0)
        const { run, result, plugins, runtime } = await runHermes(world, mode)
        expect(run.code, `${mode}: ${run.stderr}`).toBe(0)
        expect(plugins["tollgate"], `${mode}: the plugin loaded`).toEqual({ enabled: true, error: null })
        expect(run.stderr, `${mode}: no warning`).not.toMatch(/tollgate/)
        expect(result?.ok, `${mode} got a token: ${result?.error}`).toBe(true)
        const posts = tokenPosts(world.sim)
        expect(posts.hermes, `${mode}: Hermes's own token POSTs`).toBe(0)
        // force and aux401 ask for a refresh after a 401: tollgate does it once, under Claude Code's locks.
        expect(posts.tollgate, `${mode}: tollgate's token POSTs`).toBe(mode === "force" || mode === "aux401" ? 1 : 0)
        const stored = (await world.stored()).claudeAiOauth
        expect(stored, mode).toMatchObject({ subscriptionType: "max", rateLimitTier: "default_claude_max_20x" })
        if (mode === "runtime")
          expect(runtime).toMatchObject({ provider: "anthropic", api_mode: "anthropic_messages", base_url: GATEWAY })
        if (mode === "force") expect(result?.token_fp === null).toBe(false)
      })
    }
  }, 180_000)

  it("a Hermes without a function the plugin wraps: the plugin changes nothing, warns once, and doctor says why", async ({
    sandbox
  }) => {
    await withWorld(sandbox, async (world) => {
      expect((await install(world)).code).toBe(0)
      // One the force path does not need, so Hermes itself still works without it.
      const hidden = { TG_HERMES_HIDE: "agent.credential_pool:CredentialPool._mark_exhausted" }
      const { run, plugins } = await runHermes(world, "resolve", hidden)
      expect(run.code, run.stderr).toBe(0)
      expect(plugins["tollgate"]?.enabled).toBe(true)
      const warnings = run.stderr.split("\n").filter((line) => /tollgate/.test(line))
      expect(warnings, run.stderr).toHaveLength(1)
      expect(warnings[0]).toMatch(
        /WARNING tollgate: this Hermes lacks agent\.credential_pool:CredentialPool\._mark_exhausted; the plugin leaves Hermes alone/
      )
      // Left alone: Hermes's own refresh runs (and POSTs) as before.
      const force = await runHermes(world, "force", hidden)
      expect(force.result?.ok, force.run.stderr).toBe(true)
      expect(tokenPosts(world.sim)).toEqual({ hermes: 1, tollgate: 0 })
      const doctor = await tollgate(world.sandbox, ["doctor", "--json"], { env: world.env })
      expect(JSON.parse(doctor.stdout).hermes).toMatchObject({
        installed: true,
        plugin: "inactive",
        reason: "this Hermes lacks agent.credential_pool:CredentialPool._mark_exhausted"
      })
      const words = await tollgate(world.sandbox, ["doctor"], { env: world.env })
      expect(words.stdout).toMatch(
        /hermes +installed, plugin inactive: this Hermes lacks agent\.credential_pool:CredentialPool\._mark_exhausted/
      )
    })
  }, 60_000)

  it("doctor: not installed, installed but not loaded yet, plugin active", async ({ sandbox }) => {
    await withWorld(sandbox, async (world) => {
      const facts = async () =>
        JSON.parse((await tollgate(world.sandbox, ["doctor", "--json"], { env: world.env })).stdout).hermes
      expect(await facts()).toMatchObject({ home: world.hermesHome, installed: false, plugin: null })
      await install(world)
      expect(await facts()).toMatchObject({ installed: true, plugin: "not-loaded" })
      await runHermes(world, "resolve")
      expect(await facts()).toMatchObject({ installed: true, plugin: "active", reason: null })
    })
  }, 60_000)

  it("the plugin's fingerprint is tollgate's (Python and TypeScript agree)", async ({ sandbox }) => {
    await withWorld(sandbox, async (world) => {
      expect((await install(world)).code).toBe(0)
      const samples = [
        "",
        "a",
        "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz0123456789_-",
        "ünïcödé",
        "emoji 🚦 and 𝄞",
        "\u0000\uffff"
      ]
      const script = [
        "import importlib.util, json, sys",
        "spec = importlib.util.spec_from_file_location('tg', sys.argv[1])",
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
        "print(json.dumps([m.fingerprint(s) for s in json.loads(sys.stdin.read())]))"
      ].join("\n")
      const run = await collect(
        PYTHON,
        ["-c", script, join(world.hermesHome, "plugins", "tollgate", "__init__.py")],
        world.sandbox.root,
        world.env,
        {
          stdin: JSON.stringify(samples),
          timeoutMs: 20_000
        }
      )
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout)).toEqual(samples.map((s) => Credential.fingerprint(s)))
    })
  }, 60_000)
})

// The file edits, without Hermes running.
const CONFIG = `# My Hermes config
model:
  default: anthropic/claude-opus-4.6   # keep this comment
  provider: openrouter
  base_url: https://openrouter.ai/api/v1

# tools I use
toolsets:
- hermes-cli
- web
agent:
  max_turns: 90
  reasoning_effort: medium
display:
  x: 'yes'
  z: '0777'
plugins:
  enabled:
  - disk-cleanup
`
const ENV = "OPENROUTER_API_KEY=sk-or-abc\n# a comment\nANTHROPIC_TOKEN=sk-ant-oat01-old\nOTHER=1\n"
const AUTH = `{
  "version": 1,
  "providers": {
    "nous": {"x": 1}
  },
  "suppressed_sources": {
    "openai-codex": ["codex_cli"]
  }
}
`

const homeOf = async (sandbox: Sandbox, files: { config?: string; env?: string; auth?: string }) => {
  const home = join(sandbox.root, "hermes")
  await mkdir(home, { recursive: true })
  if (files.config !== undefined) await writeFile(join(home, "config.yaml"), files.config, { mode: 0o640 })
  if (files.env !== undefined) await writeFile(join(home, ".env"), files.env, { mode: 0o644 })
  if (files.auth !== undefined) await writeFile(join(home, "auth.json"), files.auth, { mode: 0o600 })
  const run = (...args: ReadonlyArray<string>) => tollgateBuilt(sandbox, ["hermes", ...args, "--hermes-home", home])
  const read = (name: string) => readFile(join(home, name), "utf8")
  const snapshot = async () => {
    const out: Record<string, string> = {}
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else
          out[path.slice(home.length)] =
            `${((await stat(path)).mode & 0o777).toString(8)} ${await readFile(path, "utf8")}`
      }
    }
    await walk(home)
    return out
  }
  return { home, run, read, snapshot }
}

const keyOf = async (sandbox: Sandbox) =>
  (await readFile(join(sandbox.home, ".config", "tollgate", "gateway.key"), "utf8")).trim()

describe("tollgate hermes install / uninstall: the files", () => {
  it("edits only what it owns: comments and other keys byte for byte, .env 0600 with other lines, auth.json merged, backups; never prints the key", async ({
    sandbox
  }) => {
    const h = await homeOf(sandbox, { config: CONFIG, env: ENV, auth: AUTH })
    const result = await h.run("install", "--port", String(PORT))
    expect(result.code, result.stderr).toBe(0)
    const key = await keyOf(sandbox)
    expect(key).toMatch(/^tollgate-gw-/)
    expect(result.stdout.includes(key) || result.stderr.includes(key), "the key is never printed").toBe(false)

    const config = await h.read("config.yaml")
    expect(config).toBe(
      CONFIG.replace("provider: openrouter", "provider: anthropic")
        .replace("base_url: https://openrouter.ai/api/v1", `base_url: ${GATEWAY}`)
        .replace("  - disk-cleanup\n", "  - disk-cleanup\n  - tollgate\n")
    )
    expect((await stat(join(h.home, "config.yaml"))).mode & 0o777).toBe(0o640)
    expect(await h.read(".env")).toBe(`OPENROUTER_API_KEY=sk-or-abc\n# a comment\nANTHROPIC_TOKEN=${key}\nOTHER=1\n`)
    expect((await stat(join(h.home, ".env"))).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await h.read("auth.json"))).toEqual({
      version: 1,
      providers: { nous: { x: 1 } },
      suppressed_sources: { "openai-codex": ["codex_cli"], anthropic: ["claude_code"] }
    })
    expect(await h.read("auth.json")).toMatch(/^ {4}"nous": \{"x": 1\}$/m)

    const names = await readdir(h.home)
    const backup = (name: string) => names.filter((n) => n.startsWith(`${name}.bak-`))
    expect(backup("config.yaml")).toHaveLength(1)
    expect(await h.read(backup("config.yaml")[0]!)).toBe(CONFIG)
    expect(await h.read(backup(".env")[0]!)).toBe(ENV)
    expect((await stat(join(h.home, backup(".env")[0]!))).mode & 0o777).toBe(0o600)
    expect(await h.read(backup("auth.json")[0]!)).toBe(AUTH)
    expect(await readdir(join(h.home, "plugins", "tollgate"))).toEqual(
      expect.arrayContaining(["plugin.yaml", "__init__.py", "config.json"])
    )
    const command = JSON.parse(await h.read("plugins/tollgate/config.json")).command as Array<string>
    expect(command).toHaveLength(2)
    expectFastCommand(command, await builtDispatcher(), [])
  })

  it("--dry-run writes nothing (not even the gateway key)", async ({ sandbox }) => {
    const h = await homeOf(sandbox, { config: CONFIG, env: ENV })
    const before = await h.snapshot()
    const result = await h.run("install", "--dry-run")
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/config\.yaml: would change/)
    expect(result.stdout).toMatch(/auth\.json: would create/)
    expect(result.stdout).toMatch(/Dry run: nothing written\./)
    expect(await h.snapshot()).toEqual(before)
    await expect(stat(join(sandbox.home, ".config", "tollgate", "gateway.key"))).rejects.toThrow()
  })

  it("a config.yaml that does not parse is refused, and nothing is written", async ({ sandbox }) => {
    const h = await homeOf(sandbox, { config: "model:\n  provider: [anthropic\n", env: ENV })
    const before = await h.snapshot()
    const result = await h.run("install")
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^tollgate hermes install: not changing .*config\.yaml: it is not valid YAML/)
    expect(await h.snapshot()).toEqual(before)
  })

  it("install twice: the second changes nothing and makes no backup", async ({ sandbox }) => {
    const h = await homeOf(sandbox, { config: CONFIG, env: ENV, auth: AUTH })
    expect((await h.run("install")).code).toBe(0)
    const first = await h.snapshot()
    const again = await h.run("install")
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/Already installed; nothing to change\./)
    expect(await h.snapshot()).toEqual(first)
  })

  it("uninstall restores every file byte for byte and removes what install created", async ({ sandbox }) => {
    const h = await homeOf(sandbox, { config: CONFIG, env: ENV })
    expect((await h.run("install")).code).toBe(0)
    expect((await h.run("install", "--port", String(PORT))).code).toBe(0)
    const result = await h.run("uninstall")
    expect(result.code, result.stderr).toBe(0)
    expect(await h.read("config.yaml")).toBe(CONFIG)
    expect(await h.read(".env")).toBe(ENV)
    expect((await stat(join(h.home, ".env"))).mode & 0o777).toBe(0o644)
    await expect(stat(join(h.home, "auth.json")), "created by install, removed").rejects.toThrow()
    await expect(stat(join(h.home, "plugins", "tollgate"))).rejects.toThrow()
    expect((await h.run("uninstall")).stdout).toMatch(/Not installed/)
  })

  it("uninstall after Hermes changed the files: only tollgate's settings come out, Hermes's changes stay", async ({
    sandbox
  }) => {
    const h = await homeOf(sandbox, { config: CONFIG, env: ENV })
    expect((await h.run("install")).code).toBe(0)
    const key = await keyOf(sandbox)
    const auth = JSON.parse(await h.read("auth.json"))
    auth.providers.anthropic = { pooled: true }
    await writeFile(join(h.home, "auth.json"), JSON.stringify(auth, null, 2))
    await writeFile(join(h.home, "config.yaml"), `${await h.read("config.yaml")}memory:\n  enabled: true\n`)
    await writeFile(join(h.home, ".env"), `${await h.read(".env")}NEW=2\n`)
    await chmod(join(h.home, ".env"), 0o600)
    const result = await h.run("uninstall")
    expect(result.code, result.stderr).toBe(0)
    expect(await h.read("config.yaml")).toBe(`${CONFIG}memory:\n  enabled: true\n`)
    expect(await h.read(".env")).toBe(`${ENV}NEW=2\n`)
    expect((await h.read(".env")).includes(key)).toBe(false)
    expect(JSON.parse(await h.read("auth.json"))).toEqual({ version: 1, providers: { anthropic: { pooled: true } } })
  })
})
