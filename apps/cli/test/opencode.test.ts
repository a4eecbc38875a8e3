// `tollgate opencode install`, spawned as a user runs it, in a sandbox HOME;
// and opencode (the real 1.18 binary, offline) as the judge of the result.
import { OUTFILE } from "@tollgate/opencode/build"
import { findOpenCodeBinary, opencodeRun, opencodeSpawn } from "@tollgate/conformance/OpenCode"
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { existsSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { describe, expect } from "vitest"
import pkg from "../package.json" with { type: "json" }
import { fakePlugin, type Sandbox, test as it, tollgateIn, withOpenCodeWorld } from "./tollgate.js"

const projectOf = async (sandbox: Sandbox) => {
  const dir = join(sandbox.root, "project")
  await mkdir(dir, { recursive: true })
  return dir
}

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>
const backups = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith("opencode.json.bak-"))

const OTHER = {
  $schema: "https://opencode.ai/config.json",
  model: "anthropic/claude-sonnet-4-5",
  provider: { anthropic: { options: { baseURL: "http://127.0.0.1:1/v1" } } },
  plugin: ["opencode-other-plugin", ["file:///somewhere/else.js", { x: 1 }]]
}

describe("tollgate opencode install", () => {
  it("--dry-run prints the target and the new plugin list and writes nothing", async ({ sandbox }) => {
    const plugin = await fakePlugin(sandbox)
    const project = await projectOf(sandbox)
    const file = join(project, "opencode.json")
    await writeFile(file, JSON.stringify(OTHER))
    const run = await tollgateIn(project, sandbox.env, ["opencode", "install", "--dry-run", "--plugin", plugin])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(file)
    expect(run.stdout).toContain(pathToFileURL(plugin).href)
    expect(run.stdout).toContain("Dry run: nothing written.")
    expect(await readFile(file, "utf8")).toBe(JSON.stringify(OTHER))
    expect(await readdir(project)).toEqual(["opencode.json"])
  })

  it("--project keeps every other key and plugin, backs up the old file; a second run changes nothing", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const project = await projectOf(sandbox)
    const file = join(project, "opencode.json")
    await writeFile(file, JSON.stringify(OTHER, null, 2))
    await chmod(file, 0o600)
    const run = await tollgateIn(project, sandbox.env, ["opencode", "install", "--project", "--plugin", plugin])
    expect(run.code, run.stderr).toBe(0)
    const after = await readJson(file)
    expect(after).toEqual({ ...OTHER, plugin: [...OTHER.plugin, pathToFileURL(plugin).href] })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const saved = await backups(project)
    expect(saved).toHaveLength(1)
    expect(await readJson(join(project, saved[0]!))).toEqual(OTHER)

    const again = await tollgateIn(project, sandbox.env, ["opencode", "install", "--plugin", plugin])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("Already installed")
    expect(await readJson(file)).toEqual(after)
    expect(await backups(project)).toHaveLength(1)
  })

  it("--global creates $XDG_CONFIG_HOME/opencode/opencode.jsonc (the name opencode itself creates)", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const xdg = join(sandbox.root, "xdg-elsewhere")
    const env = { ...sandbox.env, XDG_CONFIG_HOME: xdg }
    const run = await tollgateIn(sandbox.root, env, ["opencode", "install", "--global", "--plugin", plugin])
    expect(run.code, run.stderr).toBe(0)
    const file = join(xdg, "opencode", "opencode.jsonc")
    expect((await readJson(file))["plugin"]).toEqual([pathToFileURL(plugin).href])
    expect(await readdir(join(xdg, "opencode"))).toEqual(["opencode.jsonc"])
    await expect(stat(join(sandbox.home, ".config", "opencode", "opencode.json"))).rejects.toThrow()
    await expect(stat(join(sandbox.root, "opencode.json"))).rejects.toThrow()
  })

  it("refuses a file that is not a JSON object, or whose plugin is not a list, and leaves it untouched", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const project = await projectOf(sandbox)
    const file = join(project, "opencode.json")
    for (const text of ['["not", "an", "object"]', '{\n  // my model\n  "plugin": "anthropic/x"\n}\n']) {
      await writeFile(file, text)
      const run = await tollgateIn(project, sandbox.env, ["opencode", "install", "--plugin", plugin])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(
        /not changing .*opencode\.json: (it parses, but is not an object|its "plugin" is not a list)/
      )
      expect(await readFile(file, "utf8")).toBe(text)
      expect(await readdir(project)).toEqual(["opencode.json"])
    }
  })

  it("a missing bundle is refused with how to build it", async ({ sandbox }) => {
    const project = await projectOf(sandbox)
    const run = await tollgateIn(project, sandbox.env, [
      "opencode",
      "install",
      "--plugin",
      join(sandbox.root, "nope.js")
    ])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("does not exist")
    expect(await readdir(project)).toEqual([])
  })
})

const PACKAGE = `@tollgate/opencode@${pkg.version}`
// The opencode package says where its build goes; the CLI must name the same file.
const CHECKOUT_BUNDLE = OUTFILE

describe("tollgate opencode install: the package by name, a bundle on request", () => {
  it("by default writes @tollgate/opencode pinned to this CLI's version, replacing a file:// bundle", async ({
    sandbox
  }) => {
    const project = await projectOf(sandbox)
    const file = join(project, "opencode.json")
    await writeFile(
      file,
      JSON.stringify({ plugin: ["a", "file:///old/checkout/packages/opencode/dist/tollgate-opencode.js"] })
    )
    const run = await tollgateIn(project, sandbox.env, ["opencode", "install"])
    expect(run.code, run.stderr).toBe(0)
    expect(PACKAGE).toMatch(/^@tollgate\/opencode@\d+\.\d+\.\d+/)
    expect((await readJson(file))["plugin"]).toEqual(["a", PACKAGE])
    const again = await tollgateIn(project, sandbox.env, ["opencode", "install"])
    expect(again.stdout).toContain("Already installed")
  })

  it("--from-checkout writes this checkout's bundle as a file:// URL, or is refused saying how to build it", async ({
    sandbox
  }) => {
    // Which one depends on whether packages/opencode is built in this checkout; both are checked to the byte.
    const project = await projectOf(sandbox)
    const run = await tollgateIn(project, sandbox.env, ["opencode", "install", "--from-checkout"])
    if (existsSync(CHECKOUT_BUNDLE)) {
      expect(run.code, run.stderr).toBe(0)
      expect((await readJson(join(project, "opencode.json")))["plugin"]).toEqual([pathToFileURL(CHECKOUT_BUNDLE).href])
    } else {
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(
        `--from-checkout needs this checkout's built plugin at ${CHECKOUT_BUNDLE}, which does not exist`
      )
      expect(run.stderr).toContain("pnpm --filter @tollgate/opencode build")
      expect(await readdir(project)).toEqual([])
    }
  })

  it("--from-checkout with --plugin, or --project with --global, is a usage error", async ({ sandbox }) => {
    const plugin = await fakePlugin(sandbox)
    const both = await tollgateIn(sandbox.root, sandbox.env, [
      "opencode",
      "install",
      "--from-checkout",
      "--plugin",
      plugin
    ])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("give --from-checkout or --plugin, not both")
    const scopes = await tollgateIn(sandbox.root, sandbox.env, ["opencode", "uninstall", "--project", "--global"])
    expect(scopes.code).toBe(2)
  })
})

describe("tollgate opencode uninstall", () => {
  it("takes out the package and any bundle from every project file, other plugins and comments kept, a backup each", async ({
    sandbox
  }) => {
    const project = await projectOf(sandbox)
    const json = join(project, "opencode.json")
    const jsonc = join(project, ".opencode", "opencode.jsonc")
    await mkdir(join(project, ".opencode"))
    await writeFile(json, JSON.stringify({ plugin: [PACKAGE, "opencode-other"] }, null, 2))
    const commented =
      '{\n  "plugin": [\n    "opencode-other", // keep me\n    ["file:///x/tollgate-opencode.js", { "a": 1 }]\n  ]\n}\n'
    await writeFile(jsonc, commented)

    const dry = await tollgateIn(project, sandbox.env, ["opencode", "uninstall", "--dry-run"])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain("Dry run: nothing written.")
    expect(await readdir(project)).toEqual([".opencode", "opencode.json"])

    const run = await tollgateIn(project, sandbox.env, ["opencode", "uninstall"])
    expect(run.code, run.stderr).toBe(0)
    expect((await readJson(json))["plugin"]).toEqual(["opencode-other"])
    expect(await readFile(jsonc, "utf8")).toBe('{\n  "plugin": [\n    "opencode-other" // keep me\n  ]\n}\n')
    expect(await backups(project)).toHaveLength(1)
    expect((await readdir(join(project, ".opencode"))).filter((n) => n.includes(".bak-"))).toHaveLength(1)

    const again = await tollgateIn(project, sandbox.env, ["opencode", "uninstall"])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("Not installed")
  })

  it("--global takes it out of the global files only", async ({ sandbox }) => {
    const dir = join(sandbox.home, ".config", "opencode")
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, "opencode.jsonc"), `{ "plugin": ["${PACKAGE}"] }`)
    const project = await projectOf(sandbox)
    await writeFile(join(project, "opencode.json"), `{ "plugin": ["${PACKAGE}"] }`)
    const run = await tollgateIn(project, sandbox.env, ["opencode", "uninstall", "--global"])
    expect(run.code, run.stderr).toBe(0)
    expect(await readFile(join(dir, "opencode.jsonc"), "utf8")).toBe('{ "plugin": [] }')
    expect(await readFile(join(project, "opencode.json"), "utf8")).toBe(`{ "plugin": ["${PACKAGE}"] }`)
  })
})

const binary = findOpenCodeBinary({ installDirs: ["/tmp/oc"] })
const RUN_TIMEOUT = 90_000

describe("opencode is the judge (real binary, offline)", () => {
  // opencode-ai is a dev dependency installed with the project: a missing binary is a failure, not a skip.
  it("the real opencode binary is installed", () => {
    expect(binary, "opencode-ai should be installed by pnpm install").toBeDefined()
  })

  it(
    "after `install --project`, `opencode run` answers from the simulator and /tollgate is a command",
    async ({ sandbox }) => {
      await withOpenCodeWorld("tollgate-cli-opencode-bundle-", 120_000, async ({ sim, home, plugin }) => {
        const install = await tollgateIn(home.project, { ...sandbox.env, HOME: home.home }, [
          "opencode",
          "install",
          "--project",
          "--plugin",
          plugin
        ])
        expect(install.code, install.stderr).toBe(0)
        const config = await readJson(join(home.project, "opencode.json"))
        expect(config["plugin"]).toEqual([pathToFileURL(plugin).href])
        expect(config["provider"]).toBeDefined()

        const run = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })
        expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
        expect(run.stdout).toContain("Hello from the tollgate simulator.")
        expect(sim.log.filter((r) => r.route === "messages")).toHaveLength(1)

        // The config hook ran: opencode's resolved configuration lists the command.
        const resolved = await opencodeSpawn({ home, args: ["debug", "config"], timeoutMs: RUN_TIMEOUT, binary })
        expect(resolved.exitCode, resolved.text).toBe(0)
        expect(resolved.stdout).toContain("Call the tollgate_status tool and show its output verbatim.")

        // `/tollgate` runs (the simulator only answers; it never calls the tool).
        const slash = await opencodeRun({ home, prompt: "/tollgate", title: "t", timeoutMs: RUN_TIMEOUT, binary })
        expect(slash.exitCode, slash.text).toBe(0)
        expect(slash.stdout).toContain("Hello from the tollgate simulator.")
        expect(sim.log.filter((r) => r.route === "messages")).toHaveLength(2)

        // The tool hook ran: the build agent's tools include tollgate_status.
        const agent = await opencodeSpawn({ home, args: ["debug", "agent", "build"], timeoutMs: RUN_TIMEOUT, binary })
        expect(agent.exitCode, agent.text).toBe(0)
        expect(agent.stdout).toContain("tollgate_status")
      })
    },
    3 * RUN_TIMEOUT
  )
})
