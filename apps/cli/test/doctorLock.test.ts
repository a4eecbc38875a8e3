// doctor on a refresh lock whose owner record names a process that is gone:
// a crash left it, not Claude Code refreshing.
import { spawnSync } from "node:child_process"
import { mkdir, readFile, readlink, writeFile } from "node:fs/promises"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe } from "vitest"
import { test as it, tollgate } from "./tollgate.js"

// This machine's identity as Claude Code records it in `.oauth_refresh.lock.owner`
// (claude-credentials' internal/lockOwner.ts writes the same).
const identity = async () => {
  if (process.platform !== "linux") return { pidDomain: "linux", pidSpace: hostname() }
  const ns = await readlink("/proc/self/ns/pid").catch(() => "")
  const machine = (await readFile("/etc/machine-id", "utf8").catch(() => "")).trim()
  return { pidDomain: `linux:${machine}:${ns}`, pidSpace: `${hostname()}${ns === "" ? "" : `#${ns}`}` }
}

describe.concurrent("tollgate doctor and the refresh lock", () => {
  it("a lock whose recorded owner no longer runs is called left behind, not Claude Code refreshing", async ({
    expect,
    sandbox
  }) => {
    const dir = join(sandbox.home, ".claude")
    await mkdir(join(dir, ".oauth_refresh.lock"), { recursive: true, mode: 0o700 })
    // A pid that provably existed and has exited.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid
    const record = { pid: dead, ...(await identity()), lockBirthtimeMs: Date.now() }
    await writeFile(join(dir, ".oauth_refresh.lock.owner"), JSON.stringify(record), { mode: 0o644 })

    const [text, json] = await Promise.all([tollgate(sandbox, ["doctor"]), tollgate(sandbox, ["doctor", "--json"])])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(
      new RegExp(
        `\\n  refresh lock +left by a process that no longer runs \\(pid ${dead}\\); the next refresh takes it over at once\\n`
      )
    )
    expect(text.stdout).not.toContain("probably Claude Code")
    expect(JSON.parse(json.stdout).locks).toMatchObject({
      held: true,
      stale: false,
      owner: { pid: dead, alive: false }
    })
  })

  it("a lock whose owner runs is still described as held", async ({ expect, sandbox }) => {
    const dir = join(sandbox.home, ".claude")
    await mkdir(join(dir, ".oauth_refresh.lock"), { recursive: true, mode: 0o700 })
    const record = { pid: process.pid, ...(await identity()), lockBirthtimeMs: Date.now() }
    await writeFile(join(dir, ".oauth_refresh.lock.owner"), JSON.stringify(record), { mode: 0o644 })
    const run = await tollgate(sandbox, ["doctor"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(new RegExp(`\\n  refresh lock +held by pid ${process.pid}, running`))
  })
})
