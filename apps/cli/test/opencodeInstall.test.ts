// `tollgate opencode install` against the config files opencode really reads
// (issue 12, rows 6 and 7): JSONC edited in place with every comment kept, the
// winning global file picked, `--project` in the directory the user ran it
// from, a file that does not parse refused byte-identical. The real opencode
// 1.18 binary, offline against the simulator, judges that the plugin loads. The edit itself, on its own,
// is tested beside OpenCodeConfig in packages/opencode/test/OpenCodeConfig.test.ts.
import { findOpenCodeBinary, opencodeRun, opencodeSpawn } from "@tollgate/conformance/OpenCode"
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { describe, expect } from "vitest"
import {
  collect,
  fakePlugin,
  type Run,
  test as it,
  tollgateIn as tollgateInWithin,
  withOpenCodeWorld
} from "./tollgate.js"

const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url))
/** How long one spawned `tollgate` or `pnpm` may take here. */
const SPAWN_TIMEOUT = 60_000

/** `tollgate <args>` in `cwd` with exactly `env`. */
const tollgateIn = (cwd: string, env: Readonly<Record<string, string>>, args: ReadonlyArray<string>): Promise<Run> =>
  tollgateInWithin(cwd, env, args, SPAWN_TIMEOUT)

const GLOBAL_JSONC = `{
  // Written by opencode on its first start, then edited by hand.
  "$schema": "https://opencode.ai/config.json",
  /* plugins go here */
  "plugin": [],
  "autoupdate": false, // never
}
`

describe("tollgate opencode install: which file", () => {
  it("--global edits the opencode.jsonc opencode reads (not a new opencode.json beside it), comments kept byte for byte", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const dir = join(sandbox.home, ".config", "opencode")
    await mkdir(dir, { recursive: true })
    const file = join(dir, "opencode.jsonc")
    await writeFile(file, GLOBAL_JSONC)
    await chmod(file, 0o640)
    const run = await tollgateIn(sandbox.root, sandbox.env, ["opencode", "install", "--global", "--plugin", plugin])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`opencode config: ${file}`)
    const spec = pathToFileURL(plugin).href
    expect(await readFile(file, "utf8")).toBe(GLOBAL_JSONC.replace('"plugin": []', `"plugin": ["${spec}"]`))
    expect((await stat(file)).mode & 0o777).toBe(0o640)
    expect((await readdir(dir)).filter((n) => !n.startsWith("opencode.jsonc.bak-"))).toEqual(["opencode.jsonc"])
  })

  it("--global edits the file whose plugin list opencode uses when several exist", async ({ sandbox }) => {
    const plugin = await fakePlugin(sandbox)
    const dir = join(sandbox.home, ".config", "opencode")
    await mkdir(dir, { recursive: true })
    // opencode merges config.json < opencode.json < opencode.jsonc, arrays replaced.
    const jsonc = '{\n  // no plugin key here\n  "model": "anthropic/x"\n}\n'
    await writeFile(join(dir, "opencode.jsonc"), jsonc)
    await writeFile(join(dir, "opencode.json"), '{ "plugin": ["opencode-other"] }')
    await writeFile(join(dir, "config.json"), '{ "plugin": ["shadowed"] }')
    const run = await tollgateIn(sandbox.root, sandbox.env, ["opencode", "install", "--global", "--plugin", plugin])
    expect(run.code, run.stderr).toBe(0)
    expect(await readFile(join(dir, "opencode.json"), "utf8")).toBe(
      `{ "plugin": ["opencode-other", "${pathToFileURL(plugin).href}"] }`
    )
    expect(await readFile(join(dir, "opencode.jsonc"), "utf8")).toBe(jsonc)
    expect(await readFile(join(dir, "config.json"), "utf8")).toBe('{ "plugin": ["shadowed"] }')
  })

  it("says when another file opencode reads lists a different tollgate bundle (it would load both)", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const dir = join(sandbox.home, ".config", "opencode")
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, "opencode.jsonc"), '{ "plugin": ["file:///old/checkout/tollgate-opencode.js"] }')
    const project = join(sandbox.root, "my-project")
    await mkdir(project)
    const run = await tollgateIn(project, sandbox.env, ["opencode", "install", "--project", "--plugin", plugin])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(
      `note: ${join(dir, "opencode.jsonc")} also lists file:///old/checkout/tollgate-opencode.js; opencode loads that copy too`
    )
  })

  it("--project with INIT_CWD (as pnpm sets it) installs there, not in the cwd, and says which directory", async ({
    sandbox
  }) => {
    const checkout = join(sandbox.root, "checkout")
    const project = join(sandbox.root, "my-project")
    await mkdir(checkout)
    await mkdir(project)
    // A relative --plugin is relative to where the user is too.
    await mkdir(join(project, "vendor"))
    await writeFile(join(project, "vendor", "tollgate-opencode.js"), "export default {}\n")
    const run = await tollgateIn(checkout, { ...sandbox.env, INIT_CWD: project }, [
      "opencode",
      "install",
      "--project",
      "--plugin",
      "vendor/tollgate-opencode.js"
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`project directory: ${project} (INIT_CWD, where pnpm was run)`)
    expect(await readdir(checkout)).toEqual([])
    const config = JSON.parse(await readFile(join(project, "opencode.json"), "utf8"))
    expect(config.plugin).toEqual([pathToFileURL(join(project, "vendor", "tollgate-opencode.js")).href])
  })

  it("`pnpm --dir <checkout> tollgate opencode install --project` (the README's line) installs into the directory it is run from", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const project = join(sandbox.root, "my-project")
    await mkdir(project)
    const run = await collect(
      "pnpm",
      ["--silent", "--dir", CHECKOUT, "tollgate", "opencode", "install", "--project", "--plugin", plugin],
      project,
      sandbox.env,
      { timeoutMs: SPAWN_TIMEOUT }
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`project directory: ${project}`)
    expect(JSON.parse(await readFile(join(project, "opencode.json"), "utf8")).plugin).toEqual([
      pathToFileURL(plugin).href
    ])
    await expect(stat(join(CHECKOUT, "my-project"))).rejects.toThrow()
  })

  it("--project edits an opencode.jsonc, or a .json with comments, in place", async ({ sandbox }) => {
    const plugin = await fakePlugin(sandbox)
    const spec = pathToFileURL(plugin).href
    for (const name of ["opencode.jsonc", "opencode.json"]) {
      const project = await mkdtemp(join(sandbox.root, "p-"))
      const text = '{\n  // mine\n  "model": "anthropic/x" // pinned\n}\n'
      await writeFile(join(project, name), text)
      const run = await tollgateIn(project, sandbox.env, ["opencode", "install", "--project", "--plugin", plugin])
      expect(run.code, run.stderr).toBe(0)
      expect(await readFile(join(project, name), "utf8")).toBe(
        `{\n  // mine\n  "model": "anthropic/x", // pinned\n  "plugin": ["${spec}"]\n}\n`
      )
      expect((await readdir(project)).filter((n) => !n.includes(".bak-"))).toEqual([name])
    }
  })

  it("a config that does not parse is refused, named, and left byte-identical with nothing beside it", async ({
    sandbox
  }) => {
    const plugin = await fakePlugin(sandbox)
    const broken = '{\n  // half edited\n  "plugin": ["opencode-other",\n'
    const global = join(sandbox.home, ".config", "opencode")
    await mkdir(global, { recursive: true })
    await writeFile(join(global, "opencode.jsonc"), broken)
    const g = await tollgateIn(sandbox.root, sandbox.env, ["opencode", "install", "--global", "--plugin", plugin])
    expect(g.code).toBe(1)
    expect(g.stderr).toContain(
      `not changing ${join(global, "opencode.jsonc")}: it does not parse as JSON with comments`
    )
    expect(await readFile(join(global, "opencode.jsonc"), "utf8")).toBe(broken)
    expect(await readdir(global)).toEqual(["opencode.jsonc"])

    const project = join(sandbox.root, "project")
    await mkdir(project)
    await writeFile(join(project, "opencode.jsonc"), broken)
    const p = await tollgateIn(project, sandbox.env, ["opencode", "install", "--project", "--plugin", plugin])
    expect(p.code).toBe(1)
    expect(p.stderr).toContain("does not parse")
    expect(await readFile(join(project, "opencode.jsonc"), "utf8")).toBe(broken)
    expect(await readdir(project)).toEqual(["opencode.jsonc"])
  })
})

const binary = findOpenCodeBinary({ installDirs: ["/tmp/oc"] })
const RUN_TIMEOUT = 90_000

describe("opencode is the judge: the plugin installed into a commented config loads (real binary, offline)", () => {
  it(
    "global opencode.jsonc and a project opencode.json with comments: edited in place, opencode loads the plugin and logs in through it",
    async ({ sandbox }) => {
      expect(binary, "opencode-ai should be installed by pnpm install").toBeDefined()
      await withOpenCodeWorld("tollgate-cli-opencode-install-", 180_000, async ({ sim, home, plugin }) => {
        const spec = pathToFileURL(plugin).href
        const env = { ...sandbox.env, ...home.env }

        // Without the plugin the OAuth login in auth.json is unusable: the run fails, nothing is sent.
        const globalFile = join(home.configDir, "opencode.jsonc")
        await writeFile(globalFile, GLOBAL_JSONC)
        const before = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })
        expect(before.exitCode, before.text).not.toBe(0)
        expect(sim.log.filter((r) => r.route === "messages")).toHaveLength(0)

        const global = await tollgateIn(home.project, env, ["opencode", "install", "--global", "--plugin", plugin])
        expect(global.code, global.stderr).toBe(0)
        expect(await readFile(globalFile, "utf8")).toBe(GLOBAL_JSONC.replace('"plugin": []', `"plugin": ["${spec}"]`))
        const resolved = await opencodeSpawn({ home, args: ["debug", "config"], timeoutMs: RUN_TIMEOUT, binary })
        expect(resolved.exitCode, resolved.text).toBe(0)
        expect(JSON.parse(resolved.stdout).plugin).toEqual([spec])
        const run = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })
        expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
        expect(run.stdout).toContain("Hello from the tollgate simulator.")

        // The same in the project's opencode.json, with comments, after taking it out of the global file.
        await writeFile(globalFile, GLOBAL_JSONC)
        const projectFile = join(home.project, "opencode.json")
        const config = JSON.parse(await readFile(projectFile, "utf8")) as Record<string, unknown>
        const commented = `{\n  // the simulator\n  "provider": ${JSON.stringify(config["provider"])}, /* loopback */\n  "model": ${JSON.stringify(config["model"])}\n}\n`
        await writeFile(projectFile, commented)
        const project = await tollgateIn(home.project, env, ["opencode", "install", "--project", "--plugin", plugin])
        expect(project.code, project.stderr).toBe(0)
        expect(await readFile(projectFile, "utf8")).toBe(
          commented.replace(
            `${JSON.stringify(config["model"])}\n`,
            `${JSON.stringify(config["model"])},\n  "plugin": ["${spec}"]\n`
          )
        )
        const again = await opencodeRun({ home, prompt: "hi", title: "t", timeoutMs: RUN_TIMEOUT, binary })
        expect(again.exitCode, `${again.text}\n${await home.readLogs()}`).toBe(0)
        expect(again.stdout).toContain("Hello from the tollgate simulator.")
        expect(sim.log.filter((r) => r.route === "messages")).toHaveLength(2)
      })
    },
    5 * RUN_TIMEOUT
  )
})
