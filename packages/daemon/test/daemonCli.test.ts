/** `tollgate daemon install|uninstall|status|run`, spawned in a sandbox home as a user runs them. */
import { spawn, type ChildProcess } from "node:child_process"
import { once } from "node:events"
import { execFileSync } from "node:child_process"
import { chown, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { make as makeHome } from "@tollgate/conformance/Sandbox"
import { afterAll, describe, expect, it } from "vitest"
import * as Protocol from "../src/Protocol.js"
import * as SingleInstance from "../src/SingleInstance.js"
import { parseIni, readPlist, splitExec, value } from "./support/serviceFiles.js"

// ── the CLI, spawned in a sandbox home ──────────────────────────────────────

// The built CLI, as users run it: installers refuse to write a command for TypeScript sources (issue 15).
const CLI_BUILD = fileURLToPath(new URL("../../../apps/cli/build.mjs", import.meta.url))
let built: Promise<{ readonly dir: string; readonly dispatcher: string }> | null = null
const dispatcher = async (): Promise<string> => {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "tollgate-daemon-cli-"))
    const { buildCli } = (await import(CLI_BUILD)) as { buildCli: (outDir: string) => Promise<string> }
    return { dir, dispatcher: await realpath(await buildCli(join(dir, "dist"))) }
  })()
  return (await built).dispatcher
}
afterAll(async () => {
  const done = await built?.catch(() => undefined)
  if (done !== undefined) await rm(done.dir, { recursive: true, force: true })
})

interface Sandbox {
  readonly root: string
  readonly env: Record<string, string>
  readonly children: Array<ChildProcess>
}

/** `it` with a fresh sandbox home per test (a fixture, so the tests can run concurrently). */
const test = it.extend<{ sandbox: Sandbox }>({
  // vitest reads fixture dependencies from this (empty) destructuring pattern.
  // biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern here
  sandbox: async ({}, use) => {
    const home = await makeHome("tollgate-unit-")
    const root = home.home
    // Nothing inherited but PATH; the loopback discard port keeps any stray call off the network.
    const env = {
      ...home.env,
      NO_COLOR: "1",
      TOLLGATE_API_BASE_URL: "http://127.0.0.1:9",
      TOLLGATE_OAUTH_BASE_URL: "http://127.0.0.1:9"
    }
    const sandbox: Sandbox = { root, env, children: [] }
    await use(sandbox)
    for (const child of sandbox.children) child.kill("SIGKILL")
    await home.cleanup()
  }
})

/** The CLI from source; `stdin`, when given, is written and closed (else stdin is /dev/null). */
const start = (sandbox: Sandbox, bin: string, args: ReadonlyArray<string>, stdin?: string): ChildProcess => {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: sandbox.root,
    env: sandbox.env,
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
  })
  sandbox.children.push(child)
  child.stdin?.on("error", () => {})
  child.stdin?.end(stdin)
  return child
}

const tollgate = async (
  sandbox: Sandbox,
  args: ReadonlyArray<string>,
  stdin?: string
): Promise<{ code: number | null; stdout: string; stderr: string }> => {
  const child = start(sandbox, await dispatcher(), args, stdin)
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c))
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
  const [code] = (await once(child, "close")) as [number | null]
  return { code, stdout, stderr }
}

/** `tollgate daemon run`, once it answers a ping on the sandbox's socket; `stderr()` is what it logged so far. */
const runDaemon = async (sandbox: Sandbox) => {
  const dir = join(sandbox.env["XDG_RUNTIME_DIR"]!, "tollgate")
  const socket = join(dir, "daemon.sock")
  const daemon = start(sandbox, await dispatcher(), ["daemon", "run"])
  let stderr = ""
  daemon.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
  const exited = once(daemon, "close") as Promise<[number | null]>
  // Patient pings: the tests check the life cycle, not latency on a busy machine.
  for (let i = 0; i < 600 && !(await SingleInstance.ping(socket, 2_000)); i++)
    await new Promise((r) => setTimeout(r, 50))
  return { daemon, dir, socket, exited, stderr: () => stderr }
}

const claudeInput = (fiveHour: number, sevenDay: number) => ({
  session_id: "5f0c2a8e-0000-4000-8000-00000000abcd",
  rate_limits: {
    five_hour: { used_percentage: fiveHour, resets_at: Math.floor(Date.now() / 1000) + 3 * 3600 },
    seven_day: { used_percentage: sevenDay, resets_at: Math.floor(Date.now() / 1000) + 4 * 86_400 }
  }
})

const listTree = async (dir: string): Promise<Array<string>> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => !d.isDirectory())
    .map((d) => join(d.parentPath, d.name))

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false
  )

// Each run starts the CLI from source (seconds on a busy machine): generous timeouts.
describe.concurrent("tollgate daemon", { timeout: 120_000 }, () => {
  test("install --dry-run prints the unit and its path and writes nothing", async ({ sandbox }) => {
    // The CLI's code cache ($XDG_CACHE_HOME/tollgate/compile) is the one file every command may write; off here,
    // so that anything else a dry run wrote shows below.
    const run = await tollgate({ ...sandbox, env: { ...sandbox.env, TOLLGATE_COMPILE_CACHE: "0" } }, [
      "daemon",
      "install",
      "--dry-run",
      "--platform",
      "linux"
    ])
    expect(run.code, run.stderr).toBe(0)
    const file = join(sandbox.env["XDG_CONFIG_HOME"]!, "systemd/user/tollgate-daemon.service")
    expect(run.stdout).toContain(file)
    const unit = parseIni(
      run.stdout
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n")
    )
    const argv = splitExec(value(unit.get("Service"), "ExecStart")[0]!)
    expect(argv[0]).toBe(process.execPath)
    // The built dispatcher by its real path, never a TypeScript loader.
    expect(argv.slice(1)).toEqual([await dispatcher(), "daemon", "run"])
    expect(run.stdout).toMatch(/systemctl --user daemon-reload && systemctl --user enable --now tollgate-daemon/)
    expect(await listTree(sandbox.env["HOME"]!)).toEqual([])
  })

  test("install then uninstall create and remove the unit under the sandbox's XDG_CONFIG_HOME", async ({ sandbox }) => {
    const file = join(sandbox.env["XDG_CONFIG_HOME"]!, "systemd/user/tollgate-daemon.service")
    const installed = await tollgate(sandbox, ["daemon", "install", "--platform", "linux"])
    expect(installed.code, installed.stderr).toBe(0)
    expect(installed.stdout).toContain(`Wrote ${file}`)
    expect(installed.stdout).toMatch(
      /Next: systemctl --user daemon-reload && systemctl --user enable --now tollgate-daemon/
    )
    const text = await readFile(file, "utf8")
    expect(value(parseIni(text).get("Service"), "ExecStart")).toHaveLength(1)
    expect(value(parseIni(text).get("Service"), "Environment")).toEqual([
      `"XDG_STATE_HOME=${sandbox.env["XDG_STATE_HOME"]}"`
    ])

    const again = await tollgate(sandbox, ["daemon", "install", "--platform", "linux"])
    expect(again.stdout).toContain("already installed and up to date")

    const removed = await tollgate(sandbox, ["daemon", "uninstall", "--platform", "linux"])
    expect(removed.code, removed.stderr).toBe(0)
    expect(removed.stdout).toContain(`Removed ${file}`)
    expect(await exists(file)).toBe(false)

    const gone = await tollgate(sandbox, ["daemon", "uninstall", "--platform", "linux"])
    expect(gone.code).toBe(0)
    expect(gone.stdout).toMatch(/^Not installed/)
  })

  test("install --platform darwin writes the plist under ~/Library/LaunchAgents and creates the log directory", async ({
    sandbox
  }) => {
    const run = await tollgate(sandbox, ["daemon", "install", "--platform", "darwin"])
    expect(run.code, run.stderr).toBe(0)
    const file = join(sandbox.env["HOME"]!, "Library/LaunchAgents/dev.tollgate.daemon.plist")
    expect(readPlist(await readFile(file, "utf8"))).toMatchObject({
      Label: "dev.tollgate.daemon",
      ProgramArguments: [process.execPath, await dispatcher(), "daemon", "run"]
    })
    expect(await exists(join(sandbox.env["HOME"]!, "Library/Logs/tollgate"))).toBe(true)
    expect(run.stdout).toMatch(new RegExp(`Next: launchctl bootstrap gui/\\d+ ${file}`))
  })

  test("status says not running, and exits 0", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["daemon", "status"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/tollgate daemon is not running/)
    const json = await tollgate(sandbox, ["daemon", "status", "--json"])
    expect(JSON.parse(json.stdout)).toEqual({
      running: false,
      pid: null,
      socket: join(sandbox.env["XDG_RUNTIME_DIR"]!, "tollgate/daemon.sock")
    })
  })

  test.for(["SIGTERM", "SIGINT"] as const)(
    "run serves until %s, then exits 0 with the socket and the lock gone",
    async (signal, { sandbox }) => {
      const { daemon, dir, socket, exited, stderr } = await runDaemon(sandbox)
      expect(await SingleInstance.ping(socket, 2_000), stderr()).toEqual({ pid: daemon.pid })
      expect((await stat(socket)).mode & 0o777).toBe(0o600)
      expect((await stat(dir)).mode & 0o777).toBe(0o700)
      expect(await exists(join(dir, SingleInstance.LOCK_FILE))).toBe(true)

      const status = await tollgate(sandbox, ["daemon", "status"])
      expect(status.stdout).toContain(`tollgate daemon is running (pid ${daemon.pid}, socket ${socket})`)
      const second = await tollgate(sandbox, ["daemon", "run"])
      expect(second.code).toBe(1)
      expect(second.stderr).toContain(`tollgate daemon is already running (pid ${daemon.pid}, socket ${socket})`)

      daemon.kill(signal)
      const [code] = await exited
      expect(code, stderr()).toBe(0)
      expect(await readdir(dir)).toEqual([])
      expect(stderr()).toMatch(/stopped/)
    }
  )

  test("statuslines read the status the daemon publishes while they have nothing new to tell it", async ({
    sandbox
  }) => {
    const { daemon, dir, exited, stderr } = await runDaemon(sandbox)
    const file = join(dir, "status.json")
    expect(await exists(file), stderr()).toBe(false)

    // The first render asks (nothing published yet) and forwards Claude Code's numbers.
    const input = claudeInput(42, 13)
    let first = await tollgate(sandbox, ["statusline"], JSON.stringify(input))
    // On a loaded machine the 100 ms budget can run out before the daemon's first answer ("daemon slow"); the
    // daemon still answers and publishes, so the next render shows that answer (read, not asked) and is the one compared.
    if (first.stdout.includes("daemon slow")) first = await tollgate(sandbox, ["statusline"], JSON.stringify(input))
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^🚦 5h:42% 7d:13%/)
    const text = await readFile(file, "utf8")
    expect(JSON.parse(text)).toMatchObject({
      v: 1,
      pid: daemon.pid,
      seen: Protocol.snapshotKey(Protocol.fromStatuslineInput(input)!)
    })
    expect((await stat(file)).mode & 0o777).toBe(0o600)

    // The same numbers again: the published answer is read, the daemon is not asked (it republishes on every answer).
    const second = await tollgate(sandbox, ["statusline"], JSON.stringify(input))
    expect(second.stdout).toBe(first.stdout)
    // (A render later than PUBLISHED_FRESH_MS would rightly ask again; say so rather than fail obscurely.)
    expect(
      Date.now() - (JSON.parse(text) as Protocol.Published).answeredAt,
      "second render inside the freshness window"
    ).toBeLessThan(Protocol.PUBLISHED_FRESH_MS)
    expect(await readFile(file, "utf8")).toBe(text)

    // New numbers are news: asked, forwarded, republished.
    const moved = claudeInput(43, 13)
    const third = await tollgate(sandbox, ["statusline"], JSON.stringify(moved))
    expect(third.stdout).toMatch(/^🚦 5h:43% 7d:13%/)
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({
      pid: daemon.pid,
      seen: Protocol.snapshotKey(Protocol.fromStatuslineInput(moved)!)
    })

    daemon.kill("SIGTERM")
    const [code] = await exited
    expect(code, stderr()).toBe(0)
    expect(await readdir(dir)).toEqual([])
  })
  // Issue 11: another user's tollgate/ on a shared XDG_RUNTIME_DIR. chown to another uid needs root (CI and here run as root).
  test.runIf(process.geteuid?.() === 0)(
    "run refuses another user's runtime directory in one line naming it and its owner",
    async ({ sandbox }) => {
      const dir = join(sandbox.env["XDG_RUNTIME_DIR"]!, "tollgate")
      await mkdir(dir, { mode: 0o700 })
      await chown(dir, 12345, 12345)
      const run = await tollgate(sandbox, ["daemon", "run"])
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(`tollgate: ${dir} belongs to uid 12345, not to you (uid 0); refusing to use it\n`)
      expect(await readdir(dir)).toEqual([])
    }
  )

  test("run refuses a symlinked state directory and writes nothing through it", async ({ sandbox }) => {
    const elsewhere = join(sandbox.root, "elsewhere")
    await mkdir(elsewhere, { mode: 0o700 })
    const dir = join(sandbox.env["XDG_STATE_HOME"]!, "tollgate")
    await symlink(elsewhere, dir)
    const run = await tollgate(sandbox, ["daemon", "run"])
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(`tollgate: ${dir} is a symlink; refusing to follow it\n`)
    expect(await readdir(elsewhere)).toEqual([])
  })

  // What a daemon.json that is not a small regular file of ours must not do: hang the start (a FIFO, read
  // before listening while holding the instance lock) or grow without bound (/dev/zero). The other unusable
  // kinds (a symlink, over the cap) are StateFile.test.ts's, in process.
  const unusableStates = [
    {
      name: "a FIFO",
      plant: (file: string) => execFileSync("mkfifo", [file]),
      says: "is not a regular file (a fifo); refusing to read it"
    },
    // mknod needs root; elsewhere /dev/zero is reached through a symlink, refused as one.
    process.geteuid?.() === 0
      ? {
          name: "/dev/zero (mknod c 1 5)",
          plant: (file: string) => execFileSync("mknod", [file, "c", "1", "5"]),
          says: "is not a regular file (a character device); refusing to read it"
        }
      : {
          name: "a symlink to /dev/zero",
          plant: (file: string) => symlink("/dev/zero", file),
          says: "is a symlink; refusing to follow it"
        }
  ]
  test.for(unusableStates)(
    "run skips a daemon.json that is $name with a one-line warning, and serves",
    async (state, { sandbox }) => {
      const stateDir = join(sandbox.env["XDG_STATE_HOME"]!, "tollgate")
      await mkdir(stateDir, { mode: 0o700 })
      const file = join(stateDir, "daemon.json")
      await state.plant(file)
      const { daemon, socket, exited, stderr } = await runDaemon(sandbox)
      expect(await SingleInstance.ping(socket, 2_000), stderr()).toEqual({ pid: daemon.pid })
      const warnings = stderr()
        .split("\n")
        .filter((line) => line.includes("daemon.json"))
      expect(
        warnings.filter((line) => line.endsWith(`tollgate daemon: ignoring the saved state: ${file} ${state.says}`)),
        stderr()
      ).toHaveLength(1)
      daemon.kill("SIGTERM")
      const [code] = await exited
      expect(code, stderr()).toBe(0)
    }
  )
})
