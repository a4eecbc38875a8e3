// Importing the plugin, and opencode starting it (server(), the auth loader), load nothing of the
// request path, the login flows or the status table: a module loader hook in a fresh node process
// records every module loaded, between markers the script writes after each step.
import { execFile } from "node:child_process"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SharedLogin from "@tollgate/requests/SharedLogin"
import * as StatusCommand from "@tollgate/requests/StatusCommand"
import plugin from "../src/plugin.js"
import * as pluginModule from "../src/plugin.js"

const PLUGIN = fileURLToPath(new URL("../src/plugin.ts", import.meta.url))
const TSX_ESM = createRequire(import.meta.url).resolve("tsx/esm")

let dir = ""
let phases: Record<string, Array<string>> = {}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tollgate-lazy-"))
  const log = join(dir, "loaded.txt")
  await writeFile(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs"
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + "\\n")
  return next(url, context)
}
`
  )
  await writeFile(
    join(dir, "register.mjs"),
    `import { register } from "node:module"
register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)})
`
  )
  await writeFile(
    join(dir, "script.mjs"),
    `import { appendFileSync } from "node:fs"
const mark = (name) => appendFileSync(${JSON.stringify(log)}, "# " + name + "\\n")
mark("start")
const { default: plugin } = await import(${JSON.stringify(pathToFileURL(PLUGIN).href)})
mark("import")
const client = { auth: { set: async () => undefined } }
const hooks = await plugin.server({ client }, undefined)
await hooks.config({})
const loaded = await hooks.auth.loader(async () => ({ type: "oauth", access: "sk-ant-oat01-x", refresh: "sk-ant-ort01-x", expires: 0 }))
if (typeof loaded.fetch !== "function") throw new Error("no fetch")
mark("started")
await hooks.tool.tollgate_status.execute({}, {})
mark("status")
await plugin.server({ client }, { accounts: "x" })
mark("options")
`
  )
  const env = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: dir,
    XDG_STATE_HOME: join(dir, "state"),
    TMPDIR: dir
  }
  await new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      ["--import", TSX_ESM, "--import", join(dir, "register.mjs"), join(dir, "script.mjs")],
      { env, cwd: dir, timeout: 60_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve())
    )
  )
  // What was loaded between two marks belongs to the later one (the step that just ended).
  phases = {}
  let loaded: Array<string> = []
  for (const line of (await readFile(log, "utf8")).split("\n")) {
    if (line.startsWith("# ")) {
      phases[line.slice(2)] = loaded
      loaded = []
    } else if (line !== "") loaded.push(line)
  }
}, 90_000)
afterAll(() => rm(dir, { recursive: true, force: true }))

describe("the plugin loads lazily", () => {
  it("importing it, server() without options and the auth loader load nothing else", () => {
    expect(phases["import"]).toEqual([pathToFileURL(PLUGIN).href])
    // server() without options, the config hook, and the auth loader returning its fetch
    expect(phases["started"]).toEqual([])
  })

  it("the recorder sees what is loaded later: the status table on /tollgate's tool, then options", () => {
    expect(phases["status"]?.some((url) => url.endsWith("/src/StatusCommand.ts"))).toBe(true)
    expect(phases["options"]?.some((url) => url.endsWith("/src/internal/options.ts"))).toBe(true)
    // Schema arrives with the status table: it reads the state file's backoff with core's Backoff.Entry.
    expect(phases["status"]?.some((url) => /\/effect\/dist\/esm\/Schema\.js$/.test(url))).toBe(true)
  })

  it("the default export is the only export; its constants match the modules it no longer imports", async () => {
    expect(Object.keys(pluginModule)).toEqual(["default"])
    const hooks = await plugin.server({ client: { auth: { set: async () => undefined } } }, undefined)
    expect(hooks.auth.methods.map((m) => m.label)).toContain(SharedLogin.LABEL)
    const config: { command?: Record<string, unknown> } = {}
    await hooks.config(config)
    expect(config.command).toEqual({ [StatusCommand.COMMAND_NAME]: StatusCommand.command })
    expect(Object.keys(hooks.tool)).toEqual([StatusCommand.TOOL_NAME])
    expect(hooks.tool[StatusCommand.TOOL_NAME]?.description).toBe(StatusCommand.tool.description)
    // a user's own /tollgate is kept
    const mine = { command: { tollgate: { template: "mine" } } }
    await hooks.config(mine)
    expect(mine.command.tollgate).toEqual({ template: "mine" })
  })
})
