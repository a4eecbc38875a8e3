import { claudeAuthStatus, claudeBinary } from "@tollgate/conformance/ClaudeCode"
import { spawn, spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { join } from "node:path"
import { describe, expect } from "vitest"
import { command, plan } from "../src/commands/statusline.js"
import { builtDispatcher, expectFastCommand, type Sandbox, test as it, tollgate, tollgateBuilt } from "./tollgate.js"

const HOUR = 3_600_000
// Far enough ahead that no reset time is printed.
const later = (hours: number) => Math.floor((Date.now() + hours * HOUR) / 1000)

// Claude Code's statusLine stdin (reference, section 4).
const claudeInput = JSON.stringify({
  session_id: "0b6c3f2e-1111-4222-8333-444455556666",
  transcript_path: "/tmp/project/transcript.jsonl",
  cwd: "/tmp/project",
  model: { id: "claude-opus-4-1", display_name: "Opus" },
  workspace: { current_dir: "/tmp/project", project_dir: "/tmp/project" },
  version: "2.1.330",
  cost: { total_cost_usd: 0.42, total_duration_ms: 1000 },
  context_window: { used_percentage: 12 },
  rate_limits: {
    five_hour: { used_percentage: 42, resets_at: later(3) },
    seven_day: { used_percentage: 13, resets_at: later(100) }
  }
})

const settingsOf = (sandbox: Sandbox) => join(sandbox.home, ".claude", "settings.json")

const readJson = async (path: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>

const writeSettings = async (sandbox: Sandbox, content: unknown, mode = 0o600): Promise<string> => {
  const path = settingsOf(sandbox)
  await mkdir(join(sandbox.home, ".claude"), { recursive: true })
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2))
  await chmod(path, mode)
  return path
}

const backups = async (dir: string) => (await readdir(dir)).filter((name) => name.startsWith("settings.json.bak-"))

const OTHER_SETTINGS = {
  theme: "dark",
  permissions: { allow: ["Bash(ls:*)"] },
  statusLine: { type: "command", command: "npx -y ccstatusline@latest", padding: 1 },
  env: { DISABLE_TELEMETRY: "1" }
}

/** Runs a shell command as Claude Code does (`sh -c`), stdin written and closed. */
const runShell = (line: string, env: Readonly<Record<string, string>>, stdin: string, cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", line], { env, cwd, stdio: ["pipe", "pipe", "pipe"], timeout: 20_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })

const writeCredentials = (sandbox: Sandbox) =>
  writeFile(
    join(sandbox.home, ".claude", ".credentials.json"),
    JSON.stringify({
      claudeAiOauth: {
        accessToken: "sk-ant-oat01-StatuslineFixtureAccess-0123456789",
        refreshToken: "sk-ant-ort01-StatuslineFixtureRefresh-0123456789",
        expiresAt: Date.now() + 8 * HOUR,
        scopes: ["user:inference", "user:profile"],
        subscriptionType: "max"
      }
    }),
    { mode: 0o600 }
  )

// util-linux `script` gives Claude Code the terminal its interactive UI needs (Linux: it reads /proc below).
const hasScript = process.platform === "linux" && spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0

// The UI places words with cursor moves: read every escape sequence as a space.
const screenText = (raw: string): string =>
  raw
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g, " ")
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b[78=>]/g, " ")
    .replace(/[ \t]+/g, " ")

/** Live (not zombie) descendants of `root`, read from /proc. */
const descendants = (root: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (state === "Z") continue
      const list = children.get(Number(ppid)) ?? []
      list.push(Number(entry))
      children.set(Number(ppid), list)
    } catch {
      // Exited meanwhile.
    }
  }
  const out: Array<number> = []
  const queue = [root]
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child)
      queue.push(child)
    }
  }
  return out
}

const alive = (pid: number): boolean => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").slice(-200).includes(") Z ")
  } catch {
    return false
  }
}

/**
 * Starts the interactive `claude` UI in a pseudo-terminal, in `cwd`, until
 * its screen text shows `needle` or `timeoutMs` passes; resolves with the
 * screen text once `script`, its shell and claude have all exited. API and
 * HTTPS traffic go to a closed loopback port, so nothing leaves the machine.
 */
const claudeScreen = (env: Readonly<Record<string, string>>, cwd: string, needle: string, timeoutMs: number) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn("script", ["-qfc", `'${claudeBinary().replaceAll("'", `'\\''`)}'`, "/dev/null"], {
      cwd,
      env: {
        ...env,
        TERM: "xterm-256color",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
        HTTPS_PROXY: "http://127.0.0.1:9",
        HTTP_PROXY: "http://127.0.0.1:9"
      },
      // stdin stays open: EOF would read as Ctrl-D to the UI.
      stdio: ["pipe", "pipe", "pipe"]
    })
    let screen = ""
    let started: Array<number> = []
    const stop = () => {
      clearTimeout(timer)
      if (child.pid === undefined) return
      // `script` puts the shell and claude in a session of their own, so they are
      // killed by id; a SIGHUP from the closing terminal would let claude write to
      // the sandbox while it is being removed.
      started = [...descendants(child.pid), child.pid]
      for (const pid of started) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {
          // Already gone.
        }
      }
    }
    const timer = setTimeout(stop, timeoutMs)
    const onData = (chunk: Buffer) => {
      screen += chunk.toString("utf8")
      if (screenText(screen).includes(needle)) stop()
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", async () => {
      for (let i = 0; i < 100 && started.some(alive); i++) await new Promise((r) => setTimeout(r, 50))
      resolve(screenText(screen))
    })
  })

describe("plan and command (pure)", () => {
  const line = { type: "command", command: "/usr/bin/node /opt/tollgate.js statusline", padding: 0 } as const
  it("keeps every other key and replaces statusLine in place", () => {
    const p = plan(JSON.stringify(OTHER_SETTINGS), line)
    expect(p._tag).toBe("Right")
    if (p._tag !== "Right" || p.right.text === null) return
    const next = JSON.parse(p.right.text) as Record<string, unknown>
    expect(Object.keys(next)).toEqual(Object.keys(OTHER_SETTINGS))
    expect(next).toEqual({ ...OTHER_SETTINGS, statusLine: line })
    expect(p.right.replaces).toBe(true)
  })
  it("refuses what is not a JSON object", () => {
    for (const bad of ["[1]", "null", '"x"', "{", "// comment\n{}"]) expect(plan(bad, line)._tag, bad).toBe("Left")
    expect(plan("  \n", line)._tag).toBe("Right")
  })
  it("writes nothing when the same statusLine is there", () => {
    const p = plan(JSON.stringify({ statusLine: line }), line)
    expect(p._tag === "Right" && p.right.text).toBe(null)
  })
  it("quotes paths that need it; only node and the dispatcher, never loader flags", () => {
    expect(command({ node: "/usr/bin/node", dispatcher: "/opt/tg/tollgate.js" })).toBe(
      "/usr/bin/node /opt/tg/tollgate.js statusline"
    )
    expect(command({ node: "/n o/node", dispatcher: "/it's/tollgate.js" })).toBe(
      `'/n o/node' '/it'\\''s/tollgate.js' statusline`
    )
  })
})

// Spawning the full CLI through tsx costs seconds under load; several run at once here.
describe.concurrent("tollgate statusline", { timeout: 90_000 }, () => {
  it("prints one line from Claude Code's stdin without a daemon, exit 0", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["statusline"], { stdin: claudeInput })
    expect(run.code).toBe(0)
    expect(run.stderr).toBe("")
    expect(run.stdout).toBe("🚦 5h:42% 7d:13% · daemon down\n")
  })

  it("prints the daemon's numbers when one answers on the sandbox socket", async ({ sandbox }) => {
    const dir = join(sandbox.env["XDG_RUNTIME_DIR"] ?? "", "tollgate")
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const quota = {
      windows: { fiveHour: { usedPercent: 57, resetsAt: null } },
      source: "headers",
      observedAt: 1,
      verdict: "MissingScope",
      until: null,
      message: null
    }
    const server = createServer((socket) => {
      socket.once("data", () => socket.write(`${JSON.stringify({ v: 1, ok: true, op: "status", quota })}\n`))
      socket.on("error", () => {})
    })
    await new Promise<void>((resolve) => server.listen(join(dir, "daemon.sock"), resolve))
    try {
      const run = await tollgate(sandbox, ["statusline"], { stdin: claudeInput })
      expect(run.code).toBe(0)
      // The daemon's five-hour number, stdin's seven-day one it did not have, and the daemon's verdict.
      expect(run.stdout).toBe("🚦 5h:57% 7d:13% · no usage scope\n")
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("install --dry-run shows the change and writes nothing", async ({ sandbox }) => {
    const path = await writeSettings(sandbox, OTHER_SETTINGS)
    const before = await readFile(path, "utf8")
    const run = await tollgateBuilt(sandbox, ["statusline", "install", "--dry-run"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(path)
    expect(run.stdout).toContain(`statusLine before: ${JSON.stringify(OTHER_SETTINGS.statusLine)}`)
    expect(run.stdout).toContain(
      `statusLine after:  ${JSON.stringify({ type: "command", command: `${process.execPath} ${await builtDispatcher()} statusline`, padding: 0 })}`
    )
    expect(run.stdout).toContain("Dry run: nothing written.")
    expect(await readFile(path, "utf8")).toBe(before)
    expect(await readdir(join(sandbox.home, ".claude"))).toEqual(["settings.json"])
  })

  it("install --dry-run with no settings file creates nothing", async ({ sandbox }) => {
    const run = await tollgateBuilt(sandbox, ["statusline", "install", "--dry-run"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("(new file)")
    expect(run.stdout).toContain("statusLine before: (none)")
    await expect(stat(join(sandbox.home, ".claude"))).rejects.toThrow()
  })

  it("install keeps every other setting, the file's mode, and a backup of the old file", async ({ sandbox }) => {
    const path = await writeSettings(sandbox, OTHER_SETTINGS, 0o640)
    const old = await readFile(path, "utf8")
    const run = await tollgateBuilt(sandbox, ["statusline", "install"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("Replaced the statusLine that was configured before")
    const next = await readJson(path)
    expect(next).toEqual({ ...OTHER_SETTINGS, statusLine: next["statusLine"] })
    const statusLine = next["statusLine"] as Record<string, unknown>
    expect(statusLine["type"]).toBe("command")
    expect(statusLine["padding"]).toBe(0)
    expectFastCommand(statusLine["command"] as string, await builtDispatcher(), ["statusline"])
    expect((await stat(path)).mode & 0o777).toBe(0o640)
    const [backup, ...more] = await backups(join(sandbox.home, ".claude"))
    expect(more).toEqual([])
    expect(backup).toMatch(/^settings\.json\.bak-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/)
    const backupPath = join(sandbox.home, ".claude", backup ?? "")
    expect(await readFile(backupPath, "utf8")).toBe(old)
    expect((await stat(backupPath)).mode & 0o777).toBe(0o640)
    // No temp file left behind.
    expect((await readdir(join(sandbox.home, ".claude"))).sort()).toEqual([backup, "settings.json"].sort())

    // A second install finds it in place and writes nothing, not even a backup.
    const again = await tollgateBuilt(sandbox, ["statusline", "install"])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("Already installed")
    expect(await backups(join(sandbox.home, ".claude"))).toHaveLength(1)
  })

  it("install honours CLAUDE_CONFIG_DIR and creates a missing file 0644", async ({ sandbox }) => {
    const dir = join(sandbox.root, "claude-config")
    const run = await tollgateBuilt(sandbox, ["statusline", "install"], { env: { CLAUDE_CONFIG_DIR: dir } })
    expect(run.code, run.stderr).toBe(0)
    const path = join(dir, "settings.json")
    expect(Object.keys(await readJson(path))).toEqual(["statusLine"])
    expect((await stat(path)).mode & 0o777).toBe(0o644 & ~process.umask())
    expect(await readdir(dir)).toEqual(["settings.json"])
    await expect(stat(settingsOf(sandbox))).rejects.toThrow()
  })

  it("install refuses a settings file that is not a JSON object and leaves it alone", async ({ sandbox }) => {
    for (const content of ['["not", "an", "object"]', "{ broken"]) {
      const path = await writeSettings(sandbox, content)
      const run = await tollgateBuilt(sandbox, ["statusline", "install"])
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.stderr).toMatch(
        /^tollgate: statusline install: not changing .*settings\.json: it is (valid JSON but )?not/
      )
      expect(run.stderr).not.toContain("    at ")
      expect(await readFile(path, "utf8")).toBe(content)
      expect(await backups(join(sandbox.home, ".claude"))).toEqual([])
    }
  })

  it("after install, the real claude starts with that settings file and keeps the statusLine", async ({ sandbox }) => {
    const path = await writeSettings(sandbox, { theme: "dark" })
    const install = await tollgateBuilt(sandbox, ["statusline", "install"])
    expect(install.code, install.stderr).toBe(0)
    const installed = await readJson(path)
    const statusLine = installed["statusLine"] as { command: string }
    expectFastCommand(statusLine.command, await builtDispatcher(), ["statusline"])

    await writeCredentials(sandbox)
    const status = await claudeAuthStatus({ env: { ...sandbox.env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" } })
    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.json?.["loggedIn"]).toBe(true)
    expect(status.stderr).not.toMatch(/statusLine|invalid settings/i)
    // Claude Code neither rewrote nor dropped the entry.
    expect(await readJson(path)).toEqual(installed)

    // And the command it will run works as Claude Code runs it: through sh, from a project directory.
    const project = join(sandbox.root, "project")
    await mkdir(project)
    const run = await runShell(statusLine.command, sandbox.env, claudeInput, project)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toBe("🚦 5h:42% 7d:13% · daemon down\n")
  })

  // Skipped without util-linux `script` (not Linux, or not installed): Claude Code's UI needs the terminal it gives.
  it.skipIf(!hasScript)("the real claude UI runs the installed statusline and shows its line", async ({ sandbox }) => {
    // Skipped off Linux or without util-linux `script`: Claude Code renders the status line only in its
    // interactive UI, which needs a terminal.
    const path = await writeSettings(sandbox, { theme: "dark" })
    const install = await tollgateBuilt(sandbox, ["statusline", "install"])
    expect(install.code, install.stderr).toBe(0)
    const installed = await readJson(path)
    await writeCredentials(sandbox)
    const project = join(sandbox.root, "project")
    await mkdir(project)
    // Onboarding done and the project trusted, so the UI goes straight to the prompt.
    await writeFile(
      join(sandbox.home, ".claude.json"),
      JSON.stringify({
        hasCompletedOnboarding: true,
        theme: "dark",
        projects: { [project]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } }
      })
    )
    // Before any API response Claude Code sends no rate_limits, and no daemon runs here.
    const screen = await claudeScreen(sandbox.env, project, "🚦 daemon down", 60_000)
    expect(screen).toContain("🚦 daemon down")
    expect(await readJson(path)).toEqual(installed)
  })
})
