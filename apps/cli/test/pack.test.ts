// `@tollgate/cli` as npm users get it (issue 15): `pnpm pack` (prepack builds dist/), then `npm i -g` of the
// tarball into a temp prefix outside the workspace, offline — which only works because the manifest declares
// no dependency — and the installed `tollgate` run through npm's bin symlink with plain node: --help, doctor,
// the statusline, and the installers writing that installed dispatcher. The footprint stays ≤ 5 MB.
import { execFile } from "node:child_process"
import { readdirSync, realpathSync } from "node:fs"
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { ENTRIES, SLIM } from "../build.mjs"
import { collect, expectFastCommand, type Sandbox, test as it } from "./tollgate.js"

const run = promisify(execFile)
const APP = fileURLToPath(new URL("..", import.meta.url))
const LIMIT = 5_000_000

let dir = ""
let tarball = ""
let installed = ""
let bin = ""

beforeAll(async () => {
  dir = realpathSync(await mkdtemp(join(tmpdir(), "tollgate-cli-pack-")))
  const env = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: join(dir, "home"),
    npm_config_cache: join(dir, "npm-cache")
  }
  await mkdir(env.HOME)
  await run("pnpm", ["pack", "--pack-destination", dir], {
    cwd: APP,
    env: { ...process.env, ...env },
    timeout: 120_000
  })
  tarball = join(dir, (await readdir(dir)).find((name) => name.endsWith(".tgz")) ?? "missing.tgz")
  const prefix = join(dir, "prefix")
  await run("npm", ["install", "--global", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tarball], {
    cwd: dir,
    env,
    timeout: 120_000
  })
  installed = join(prefix, "lib", "node_modules", "@tollgate", "cli")
  bin = join(prefix, "bin", "tollgate")
}, 240_000)

afterAll(async () => {
  if (dir !== "") await rm(dir, { recursive: true, force: true })
})

const bytes = async (path: string): Promise<number> => {
  const info = await stat(path)
  if (!info.isDirectory()) return info.size
  let total = 0
  for (const name of await readdir(path)) total += await bytes(join(path, name))
  return total
}

// As a shell runs it through the bin symlink: argv[1] is the link, not the file.
const tollgate = (sandbox: Sandbox, args: ReadonlyArray<string>, stdin?: string) =>
  collect(process.execPath, [bin, ...args], sandbox.root, sandbox.env, { stdin, timeoutMs: 30_000 })

describe.concurrent("@tollgate/cli packed and installed with npm i -g", { timeout: 60_000 }, () => {
  it("the manifest declares no dependency, and the tarball holds only what runs", async () => {
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as Record<string, unknown>
    for (const key of [
      "dependencies",
      "optionalDependencies",
      "peerDependencies",
      "bundleDependencies",
      "bundledDependencies"
    ]) {
      expect(manifest[key], key).toBeUndefined()
    }
    expect(manifest["bin"]).toEqual({ tollgate: "./dist/tollgate.js" })
    const { stdout } = await run("tar", ["-tzf", tarball])
    const files = stdout
      .trim()
      .split("\n")
      .map((f) => f.replace(/^package\//, ""))
      .sort()
    expect(files.filter((f) => !/^(README\.md|LICENSE|CHANGELOG\.md)$/.test(f))).toEqual(
      [
        ...["index", ...ENTRIES.map((e) => e.bundle), ...SLIM].map((bundle) => `dist/cli/${bundle}.cjs`),
        // The root help build.mjs rendered, which `tollgate --help` prints.
        "dist/cli/help.txt",
        "dist/package.json",
        "dist/tollgate.js",
        "package.json"
      ].sort()
    )
  })

  it(`installs alone, outside any workspace, in ≤ ${LIMIT} bytes`, async () => {
    // Nothing but the package itself where node could resolve a module from.
    expect(readdirSync(dirname(installed))).toEqual(["cli"])
    expect(readdirSync(dirname(dirname(installed)))).toEqual(["@tollgate"])
    for (let up = dirname(dir); up !== dirname(up); up = dirname(up)) {
      expect(readdirSync(up), `${up} must hold no node_modules`).not.toContain("node_modules")
    }
    const size = await bytes(installed)
    console.log(
      `@tollgate/cli installed: ${size} bytes (${(size / 1_048_576).toFixed(2)} MiB), tarball ${(await stat(tarball)).size} bytes`
    )
    expect(size).toBeLessThanOrEqual(LIMIT)
  })

  it("tollgate --help and doctor --json run from the install", async ({ sandbox }) => {
    const help = await tollgate(sandbox, ["--help"])
    expect(help.code, help.stderr).toBe(0)
    for (const command of ["doctor", "statusline", "opencode", "daemon", "gateway", "hermes"])
      expect(help.stdout).toContain(command)
    const doctor = await tollgate(sandbox, ["doctor", "--json"])
    expect(doctor.code === 0 || doctor.code === 1, doctor.stderr).toBe(true)
    expect(doctor.stderr).not.toMatch(/Cannot find (module|package)/)
    expect(JSON.parse(doctor.stdout)).toBeTypeOf("object")
  })

  it("statusline install writes the installed dispatcher by its real path, and that command renders", async ({
    sandbox
  }) => {
    const install = await tollgate(sandbox, ["statusline", "install"])
    expect(install.code, install.stderr).toBe(0)
    const settings = JSON.parse(await readFile(join(sandbox.home, ".claude", "settings.json"), "utf8"))
    const dispatcher = join(installed, "dist", "tollgate.js")
    expectFastCommand(settings.statusLine.command, dispatcher, ["statusline"])
    const line = await collect("/bin/sh", ["-c", settings.statusLine.command], sandbox.root, sandbox.env, {
      stdin: "{}",
      timeoutMs: 30_000
    })
    expect(line.code, line.stderr).toBe(0)
    expect(line.stdout).toMatch(/^🚦 /)

    const daemon = await tollgate(sandbox, ["daemon", "install", "--dry-run", "--platform", "linux"])
    expect(daemon.code, daemon.stderr).toBe(0)
    expectFastCommand(/^ExecStart=(.*)$/m.exec(daemon.stdout)?.[1] ?? "", dispatcher, ["daemon", "run"])
  })

  it("opencode install names the package at this version; --from-checkout is refused outside a checkout", async ({
    sandbox
  }) => {
    const { version } = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as { version: string }
    const byName = await tollgate(sandbox, ["opencode", "install", "--project", "--dry-run"])
    expect(byName.code, byName.stderr).toBe(0)
    expect(byName.stdout).toContain(`plugin after:  ["@tollgate/opencode@${version}"]`)
    const checkout = await tollgate(sandbox, ["opencode", "install", "--project", "--from-checkout"])
    expect(checkout.code).toBe(1)
    expect(checkout.stderr).toMatch(
      /^tollgate: opencode install: --from-checkout needs this checkout's built plugin at .* which does not exist/
    )
    expect(await readdir(sandbox.root)).not.toContain("opencode.json")
  })
})
