// The CLI as it ships: build.mjs's dispatcher and bundles, built into a temp directory and
// run with plain node (no tsx, no workspace), each command that pulls in a
// different dependency (yaml, jsonc-parser, effect, the statusline client).
// A bundling mistake (a dependency that loads its own files at run time) only
// shows here: the source under tsx resolves them from node_modules.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { buildCli } from "../build.mjs"
import { pick } from "../src/Dispatch.js"
import { collect, type Sandbox, test as it } from "./tollgate.js"

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
    for (const command of ["conformance", "token", "gateway", "hermes", "opencode", "daemon", "statusline"]) expect(run.stdout).toContain(command)
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
    const run = await built(sandbox, ["opencode", "install", "--project", "--dry-run", "--plugin", join(dir, "plugin.js")])
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
