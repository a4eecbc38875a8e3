// The CLI as it ships: build.mjs's dispatcher and bundles, built into a temp directory and
// run with plain node (no tsx, no workspace), each command that pulls in a
// different dependency (yaml, jsonc-parser, effect, the statusline client).
// A bundling mistake (a dependency that loads its own files at run time) only
// shows here: the source under tsx resolves them from node_modules.
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { buildCli } from "../build.mjs"
import { isRootHelp, pick } from "../src/Dispatch.js"
import { collect, type Sandbox, test as it, tollgate } from "./tollgate.js"

let dir = ""
let dispatcher = ""

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tollgate-cli-build-"))
  dispatcher = await buildCli(join(dir, "dist"))
}, 120_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const built = (sandbox: Sandbox, args: ReadonlyArray<string>, stdin?: string) =>
  collect(process.execPath, [dispatcher, ...args], sandbox.root, sandbox.env, { stdin, timeoutMs: 30_000 })

describe.concurrent("the built tollgate (dist/tollgate.js + dist/cli/*.cjs)", { timeout: 60_000 }, () => {
  it("--help lists every command", async ({ sandbox }) => {
    const run = await built(sandbox, ["--help"])
    expect(run.code, run.stderr).toBe(0)
    for (const command of ["conformance", "token", "gateway", "hermes", "opencode", "daemon", "statusline"])
      expect(run.stdout).toContain(command)
  })

  it("gateway key and doctor --json (effect, @effect/cli, the gateway)", async ({ sandbox }) => {
    const key = await built(sandbox, ["gateway", "key"])
    expect(key.code, key.stderr).toBe(0)
    expect(key.stdout.trim()).toMatch(/^tollgate-gw-/)
    const doctor = await built(sandbox, ["doctor", "--json"])
    expect(doctor.code === 0 || doctor.code === 1, doctor.stderr).toBe(true)
    expect(() => JSON.parse(doctor.stdout)).not.toThrow()
  })

  it("opencode install --project --dry-run (jsonc-parser)", async ({ sandbox }) => {
    await writeFile(join(dir, "plugin.js"), "export default {}\n")
    const run = await built(sandbox, [
      "opencode",
      "install",
      "--project",
      "--dry-run",
      "--plugin",
      join(dir, "plugin.js")
    ])
    expect(run.stderr).not.toMatch(/Cannot find module/)
    expect(run.code, run.stderr).toBe(0)
  })

  it("hermes install --dry-run (yaml)", async ({ sandbox }) => {
    const run = await built(sandbox, ["hermes", "install", "--dry-run", "--hermes-home", join(sandbox.home, ".hermes")])
    expect(run.stderr).not.toMatch(/Cannot find module/)
    expect(run.code, run.stderr).toBe(0)
  })

  it("statusline (the dispatcher's own client, no Effect)", async ({ sandbox }) => {
    const run = await built(sandbox, ["statusline"], "{}")
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^🚦 /)
  })
})

describe.concurrent("tollgate --help from the help build.mjs rendered", { timeout: 60_000 }, () => {
  // What the CLI itself prints, run straight from its bundle, not through the dispatcher.
  // The sandbox sets NO_COLOR; `colour` drops it (with both set, Node itself warns on stderr).
  const envOf = (sandbox: Sandbox, env: Record<string, string>) => {
    const { NO_COLOR: _, ...rest } = sandbox.env
    return "FORCE_COLOR" in env && !("NO_COLOR" in env) ? { ...rest, ...env } : { ...sandbox.env, ...env }
  }
  const live = (sandbox: Sandbox, env: Record<string, string>) =>
    collect(process.execPath, [join(dir, "dist", "cli", "index.cjs"), "--help"], sandbox.root, envOf(sandbox, env), {
      timeoutMs: 30_000
    })
  const through = (sandbox: Sandbox, args: ReadonlyArray<string>, env: Record<string, string>, bin = dispatcher) =>
    collect(process.execPath, [bin, ...args], sandbox.root, envOf(sandbox, env), { timeoutMs: 30_000 })
  const colour = { FORCE_COLOR: "1" }

  it("--help and -h print exactly what the CLI prints, plain without a terminal", async ({ sandbox }) => {
    const [expected, help, h] = await Promise.all([
      live(sandbox, {}),
      through(sandbox, ["--help"], {}),
      through(sandbox, ["-h"], {})
    ])
    expect(expected.code, expected.stderr).toBe(0)
    expect(expected.stdout).toMatch(/USAGE[\s\S]*COMMANDS/)
    expect(expected.stdout).not.toContain("\u001b")
    for (const run of [help, h]) expect(run).toEqual(expected)
  })

  it("with FORCE_COLOR the same escapes as the CLI; NO_COLOR wins over FORCE_COLOR", async ({ sandbox }) => {
    const [expected, coloured, both] = await Promise.all([
      live(sandbox, colour),
      through(sandbox, ["--help"], colour),
      through(sandbox, ["--help"], { NO_COLOR: "1", FORCE_COLOR: "1" })
    ])
    expect(expected.stdout).toContain("\u001b[")
    expect(coloured).toEqual(expected)
    expect(both.stdout).not.toContain("\u001b")
    expect(both.stdout.length).toBeGreaterThan(1000)
  })

  it("matches the source CLI under tsx, so the rendered copy is the current definitions'", async ({ sandbox }) => {
    const [fromSource, built] = await Promise.all([tollgate(sandbox, ["--help"]), through(sandbox, ["--help"], {})])
    expect(fromSource.code, fromSource.stderr).toBe(0)
    expect(built.stdout).toBe(fromSource.stdout)
  })

  it("without dist/cli/help.txt the CLI renders it instead", async ({ sandbox }) => {
    const copy = join(dir, "dist-without-help")
    await cp(join(dir, "dist"), copy, { recursive: true })
    await rm(join(copy, "cli", "help.txt"))
    const [expected, run] = await Promise.all([
      live(sandbox, {}),
      through(sandbox, ["--help"], {}, join(copy, "tollgate.js"))
    ])
    expect(run).toEqual(expected)
  })
})

describe("which command lines get the rendered root help", () => {
  it.each([
    [["--help"], true],
    [["-h"], true],
    [[], false],
    [["--help", "--log-level", "debug"], false],
    [["doctor", "--help"], false],
    [["--version"], false]
  ])("%j → %j", (args, expected) => {
    expect(isRootHelp(args)).toBe(expected)
  })
})

describe("which bundle serves a command line", () => {
  const commands = ["classify", "daemon", "doctor", "gateway", "sim", "token"]
  const slim = ["classify", "doctor", "token"]
  const entries = [{ args: ["daemon", "run"], bundle: "daemon-run" }]
  it.each([
    [["--help"], { bundle: "index", command: "index" }],
    [[], { bundle: "index", command: "index" }],
    [["doctor", "--json"], { bundle: "doctor", command: "doctor" }],
    [["--log-level", "debug", "token", "--json"], { bundle: "token", command: "token" }],
    [["gateway", "run"], { bundle: "index", command: "gateway" }],
    // The first command word is the command: a later one is an option's value.
    [["sim", "--scenario", "token"], { bundle: "index", command: "sim" }],
    [["docter"], { bundle: "index", command: "index" }],
    [["daemon", "run"], { bundle: "daemon-run", command: "daemon-run" }],
    [["daemon", "run", "--help"], { bundle: "index", command: "daemon" }]
  ])("%j → %j", (args, expected) => {
    expect(pick(args, commands, slim, entries)).toEqual(expected)
  })
})
