// Stores `tollgate refresh` must refuse before it spends the refresh token —
// or handle without harm — as the bundled CLI shows them to a user: a disk
// too full for the new document, a document nested too deeply to write back,
// a FIFO where the file belongs; and two it must get right: a UTF-8 BOM, and
// a store owned by another user that root refreshes (owner and group kept).
import { execFileSync } from "node:child_process"
import { chown, lstat, mkdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { bundleCli, makeWorkspace, spawnNode, type Workspace } from "./harness/bundle.js"

let workspace: Workspace
let cli: string
const homes: Array<TempHome> = []
const sims: Array<Simulator.Simulator> = []
const mounts: Array<string> = []

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-refusals-")
  cli = await bundleCli(join(workspace.dir, "cli"))
})

afterEach(async () => {
  for (const dir of mounts.splice(0)) execFileSync("umount", [dir])
  for (const sim of sims.splice(0)) await sim.close()
})

afterAll(async () => {
  for (const home of homes.splice(0)) await home.cleanup()
  await workspace?.cleanup()
})

const setup = async () => {
  const home = await makeTempHome("tollgate-refusals-home-")
  homes.push(home)
  const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 120_000 })
  sims.push(sim)
  const live = sim.current()
  const login = {
    accessToken: live.accessToken,
    refreshToken: live.refreshToken,
    expiresAt: Date.now() - 60_000,
    scopes: [...live.scopes],
    subscriptionType: "max"
  }
  const store = join(home.claudeDir, ".credentials.json")
  const refresh = async (env: Readonly<Record<string, string>> = {}) => {
    const ended = await spawnNode(
      cli,
      ["refresh"],
      { ...home.env, ...sim.env, NO_COLOR: "1", ...env },
      { timeoutMs: 30_000 }
    ).ended
    return { ...ended, lines: ended.stderr.trim() === "" ? [] : ended.stderr.trim().split("\n") }
  }
  return { home, sim, login, store, refresh }
}

/** One line, naming the store, holding no token. */
const oneLine = (lines: ReadonlyArray<string>, tokens: ReadonlyArray<string | null>) => {
  expect(lines, lines.join("\n")).toHaveLength(1)
  for (const token of tokens) if (token !== null) expect(lines[0]!.includes(token)).toBe(false)
}

// Mounting a small tmpfs and giving files to another uid need root, which CI and the developer
// machines are; elsewhere those two cases cannot be staged safely and are skipped.
const root = process.getuid?.() === 0

describe("tollgate refresh refuses before spending anything", () => {
  it.skipIf(!root)(
    "a disk without room for the new document: exit 1, one line, no token request, the store untouched",
    async () => {
      const { home, sim, login, refresh } = await setup()
      // A 64 KiB file system for the config dir, filled to the last block.
      const dir = join(home.home, "small")
      await mkdir(dir)
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir])
      mounts.push(dir)
      const text = JSON.stringify({ claudeAiOauth: login }, null, 2)
      await writeFile(join(dir, ".credentials.json"), text, { mode: 0o600 })
      await writeFile(join(dir, "filler"), Buffer.alloc(1024 * 1024)).catch(() => undefined)
      const run = await refresh({ CLAUDE_CONFIG_DIR: dir })
      expect(run.code, run.stderr).toBe(1)
      oneLine(run.lines, [login.accessToken, login.refreshToken])
      expect(run.lines[0]).toMatch(/no room for the new document.*nothing was changed/)
      expect(sim.count("token")).toBe(0)
      expect(await readFile(join(dir, ".credentials.json"), "utf8")).toBe(text)
    }
  )

  it("a document nested 6,000 levels deep in a foreign key: exit 1, one line, no token request, byte-identical store", async () => {
    const { sim, login, store, refresh } = await setup()
    const deep = `${"[".repeat(6_000)}${"]".repeat(6_000)}`
    const text = `{"claudeAiOauth":${JSON.stringify(login)},"pluginSecrets":${deep}}`
    await writeFile(store, text, { mode: 0o600 })
    const run = await refresh()
    expect(run.code).toBe(1)
    oneLine(run.lines, [login.accessToken, login.refreshToken])
    expect(run.lines[0]).toMatch(/too deep/i)
    expect(sim.count("token")).toBe(0)
    expect(await readFile(store, "utf8")).toBe(text)
  })

  it("a FIFO where the store belongs: exit 1 at once, one line, no token request", async () => {
    const { sim, store, refresh } = await setup()
    execFileSync("mkfifo", ["-m", "600", store])
    const run = await refresh()
    expect(run.code).toBe(1)
    oneLine(run.lines, [])
    expect(run.lines[0]).toMatch(/not a regular file/)
    expect(sim.count("token")).toBe(0)
    expect((await lstat(store)).isFIFO()).toBe(true)
  })
})

describe("tollgate refresh keeps what it must", () => {
  it("a store with a UTF-8 BOM is refreshed like any other", async () => {
    const { sim, login, store, refresh } = await setup()
    await writeFile(store, `\uFEFF${JSON.stringify({ claudeAiOauth: login, mcpOAuth: { a: 1 } })}`, { mode: 0o600 })
    const run = await refresh()
    expect(run.code, run.stderr).toBe(0)
    expect(sim.count("token")).toBe(1)
    const after = JSON.parse(await readFile(store, "utf8"))
    expect(after.claudeAiOauth.refreshToken).toBe(sim.current().refreshToken)
    expect(after.mcpOAuth).toEqual({ a: 1 })
  })

  // The case is root's (`sudo -E tollgate refresh`): only root can give a file to another uid.
  it.skipIf(!root)("root refreshing another user's store keeps its owner, group and mode 0600", async () => {
    const { home, sim, login, store, refresh } = await setup()
    await writeFile(store, JSON.stringify({ claudeAiOauth: login }), { mode: 0o600 })
    await chown(store, 12345, 23456)
    await chown(home.claudeDir, 12345, 23456)
    const run = await refresh()
    expect(run.code, run.stderr).toBe(0)
    expect(sim.count("token")).toBe(1)
    const after = await stat(store)
    expect({ uid: after.uid, gid: after.gid, mode: after.mode & 0o777 }).toEqual({
      uid: 12345,
      gid: 23456,
      mode: 0o600
    })
  })
})
