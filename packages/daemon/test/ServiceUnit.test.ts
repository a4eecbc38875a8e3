/**
 * The service files as a service manager would read them (an INI reader with
 * systemd's command-line unquoting; a small XML reader for the plist), and
 * `tollgate daemon install|uninstall|status|run` spawned in a sandbox home.
 */
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
import * as ServiceUnit from "../src/ServiceUnit.js"
import * as SingleInstance from "../src/SingleInstance.js"

// ── a systemd unit, read back ────────────────────────────────────────────────

const parseIni = (text: string): Map<string, Array<[string, string]>> => {
  const sections = new Map<string, Array<[string, string]>>()
  let current: Array<[string, string]> | undefined
  for (const line of text.split("\n")) {
    if (line.trim() === "" || /^[#;]/.test(line)) continue
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) {
      current = []
      sections.set(header[1]!, current)
      continue
    }
    const eq = line.indexOf("=")
    if (current === undefined || eq <= 0) throw new Error(`not an INI line: ${line}`)
    current.push([line.slice(0, eq), line.slice(eq + 1)])
  }
  return sections
}

const value = (section: Array<[string, string]> | undefined, key: string): Array<string> =>
  (section ?? []).filter(([k]) => k === key).map(([, v]) => v)

const C_ESCAPES: Record<string, string> = { n: "\n", t: "\t", "\\": "\\", '"': '"', "'": "'", " ": " " }

/** systemd's reading of a command line: `%%` specifiers, then quoted words with C escapes, then `$$`. */
const splitExec = (line: string): Array<string> => {
  if (line.replace(/%%/g, "").includes("%")) throw new Error(`unescaped specifier in ${line}`)
  const text = line.replace(/%%/g, "%")
  const words: Array<string> = []
  let i = 0
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (i >= text.length) break
    let word = ""
    let quote: string | null = null
    for (; i < text.length; i++) {
      const c = text[i]!
      if (c === "\\") {
        const escaped = C_ESCAPES[text[i + 1] ?? ""]
        if (escaped === undefined) throw new Error(`bad escape in ${line}`)
        word += escaped
        i++
      } else if (quote !== null) {
        if (c === quote) quote = null
        else word += c
      } else if (/\s/.test(c)) break
      else if (c === '"' || c === "'") quote = c
      else word += c
    }
    if (quote !== null) throw new Error(`unterminated quote in ${line}`)
    if (/\$(?!\$)[{A-Za-z_]/.test(word.replace(/\$\$/g, ""))) throw new Error(`would expand a variable: ${word}`)
    words.push(word.replace(/\$\$/g, "$"))
  }
  return words
}

// ── a plist, read back ──────────────────────────────────────────────────────

interface Element {
  readonly name: string
  readonly children: Array<Element | string>
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

const decode = (text: string): string =>
  text.replace(/&([a-z]+);|&/g, (_, name: string | undefined) => {
    const decoded = name === undefined ? undefined : ENTITIES[name]
    if (decoded === undefined) throw new Error(`stray & in ${text}`)
    return decoded
  })

/** A tag-balancing XML reader: enough for a plist, and strict about `<`, `&` and nesting. */
const parseXml = (xml: string): Element => {
  const root: Element = { name: "#document", children: [] }
  const stack: Array<Element> = [root]
  let i = 0
  while (i < xml.length) {
    const lt = xml.indexOf("<", i)
    const text = xml.slice(i, lt === -1 ? xml.length : lt)
    if (text.includes(">")) throw new Error(`stray > in ${text}`)
    if (text.trim() !== "") stack.at(-1)!.children.push(decode(text))
    if (lt === -1) break
    const gt = xml.indexOf(">", lt)
    if (gt === -1) throw new Error("unterminated tag")
    const tag = xml.slice(lt + 1, gt)
    i = gt + 1
    if (tag.startsWith("?") || tag.startsWith("!")) continue
    if (tag.includes("<")) throw new Error(`< inside a tag: ${tag}`)
    if (tag.startsWith("/")) {
      const open = stack.pop()
      if (open?.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open?.name}>`)
      continue
    }
    const element: Element = { name: tag.replace(/\/$/, "").split(/\s/)[0]!, children: [] }
    stack.at(-1)!.children.push(element)
    if (!tag.endsWith("/")) stack.push(element)
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)!.name}>`)
  return root
}

type PlistValue = string | number | boolean | Array<PlistValue> | { [key: string]: PlistValue }

const elements = (e: Element): Array<Element> => e.children.filter((c): c is Element => typeof c !== "string")
const textOf = (e: Element): string => e.children.filter((c): c is string => typeof c === "string").join("")

const toValue = (e: Element): PlistValue => {
  switch (e.name) {
    case "string":
      return textOf(e)
    case "integer":
      return Number(textOf(e))
    case "true":
      return true
    case "false":
      return false
    case "array":
      return elements(e).map(toValue)
    case "dict": {
      const out: { [key: string]: PlistValue } = {}
      const items = elements(e)
      for (let i = 0; i < items.length; i += 2) {
        if (items[i]!.name !== "key") throw new Error("a dict alternates key and value")
        out[textOf(items[i]!)] = toValue(items[i + 1]!)
      }
      return out
    }
    default:
      throw new Error(`unexpected <${e.name}>`)
  }
}

const readPlist = (xml: string): PlistValue => {
  const plist = elements(parseXml(xml))
  if (plist.length !== 1 || plist[0]!.name !== "plist") throw new Error("one <plist> root")
  return toValue(elements(plist[0]!)[0]!)
}

const awkward = {
  execPath: "/opt/node 20/bin/node",
  cliPath: `/home/o'neil/My "tools"/100%/$HOME/a\\b & <c>/tollgate.js`
}

describe("ServiceUnit", () => {
  it("writes a systemd user unit whose ExecStart systemd reads back as the exact argv", () => {
    const unit = ServiceUnit.systemdUnit({
      ...awkward,
      env: { CLAUDE_CONFIG_DIR: "/home/x/my claude/%h", XDG_STATE_HOME: "/s" }
    })
    const ini = parseIni(unit)
    expect([...ini.keys()]).toEqual(["Unit", "Service", "Install"])
    expect(value(ini.get("Unit"), "Description")).toEqual(["tollgate usage daemon"])
    const service = ini.get("Service")
    expect(value(service, "ExecStart")).toHaveLength(1)
    expect(splitExec(value(service, "ExecStart")[0]!)).toEqual([awkward.execPath, awkward.cliPath, "daemon", "run"])
    expect(value(service, "ExecStart")[0]).toMatch(/^"\/opt\/node 20\/bin\/node" /)
    expect(value(service, "Restart")).toEqual(["on-failure"])
    expect(value(service, "RestartSec")).toEqual(["5"])
    expect(value(service, "NoNewPrivileges")).toEqual(["yes"])
    // V8's JIT needs writable+executable memory.
    expect(value(service, "MemoryDenyWriteExecute")).toEqual([])
    expect(value(service, "Environment").map((e) => splitExec(e.replace(/\$/g, "$$$$")))).toEqual([
      ["CLAUDE_CONFIG_DIR=/home/x/my claude/%h"],
      ["XDG_STATE_HOME=/s"]
    ])
    expect(value(ini.get("Install"), "WantedBy")).toEqual(["default.target"])

    const plain = ServiceUnit.systemdUnit({ execPath: "/usr/bin/node", cliPath: "/usr/lib/tollgate/tollgate.js" })
    expect(plain).toContain("ExecStart=/usr/bin/node /usr/lib/tollgate/tollgate.js daemon run\n")
    expect(plain).not.toContain("Environment=")
  })

  it("writes a well-formed launchd plist with everything escaped", () => {
    const xml = ServiceUnit.launchdPlist({ ...awkward, home: "/Users/a&b", env: { TOLLGATE_X: "<1 & 2>" } })
    expect(readPlist(xml)).toEqual({
      Label: "dev.tollgate.daemon",
      ProgramArguments: [awkward.execPath, awkward.cliPath, "daemon", "run"],
      EnvironmentVariables: { TOLLGATE_X: "<1 & 2>" },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 5,
      ProcessType: "Background",
      Umask: 0o077,
      StandardErrorPath: "/Users/a&b/Library/Logs/tollgate/daemon.log"
    })
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist /)
  })

  it("refuses what a service file cannot say: relative paths, line breaks, control characters, bad variable names", () => {
    expect(() => ServiceUnit.systemdUnit({ execPath: "node", cliPath: "/x.js" })).toThrow(/absolute/)
    expect(() =>
      ServiceUnit.systemdUnit({ execPath: "/node", cliPath: "/x\n[Service]\nExecStartPre=/bin/evil" })
    ).toThrow(/line breaks/)
    expect(() => ServiceUnit.systemdUnit({ execPath: "/node", cliPath: "/x.js", env: { "A B": "1" } })).toThrow(
      /variable name/
    )
    expect(() => ServiceUnit.launchdPlist({ execPath: "/node", cliPath: "/x\u0001.js", home: "/h" })).toThrow(/control/)
  })

  it("puts the file under XDG_CONFIG_HOME (default ~/.config) on Linux and ~/Library/LaunchAgents on macOS", () => {
    expect(ServiceUnit.unitPath("linux", { HOME: "/home/u", XDG_CONFIG_HOME: "/cfg" })).toBe(
      "/cfg/systemd/user/tollgate-daemon.service"
    )
    expect(ServiceUnit.unitPath("linux", { HOME: "/home/u" })).toBe(
      "/home/u/.config/systemd/user/tollgate-daemon.service"
    )
    expect(ServiceUnit.unitPath("linux", { HOME: "/home/u", XDG_CONFIG_HOME: "relative" })).toBe(
      "/home/u/.config/systemd/user/tollgate-daemon.service"
    )
    expect(ServiceUnit.unitPath("darwin", { HOME: "/Users/u", XDG_CONFIG_HOME: "/cfg" })).toBe(
      "/Users/u/Library/LaunchAgents/dev.tollgate.daemon.plist"
    )
    expect(() => ServiceUnit.unitPath("linux", {})).toThrow(/HOME/)
  })
})

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
