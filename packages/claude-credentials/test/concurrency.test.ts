// No lost update: 16 processes each read-modify-write the store several times
// under `RefreshLock.withStorageWriteLock` (Claude Code's `.storage-write.lock`),
// each appending its round to its own field. Every append must survive: a
// writer that read before another's write and wrote after it would drop that
// append, and the field's history would show the gap.
//
// The negative control runs the same writers without the lock and must lose
// at least one append, so the check above is known to be able to fail.
import { lstat, mkdir, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeWorkspace, spawnNode, type Workspace } from "./harness/bundle.js"

const WRITERS = 16
const ROUNDS = 5

let workspace: Workspace
let home: TempHome

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-concurrency-")
  home = await makeTempHome("tollgate-concurrency-home-")
})

afterAll(async () => {
  await home?.cleanup()
  await workspace?.cleanup()
})

const login = {
  accessToken: "sk-ant-oat01-concurrency-not-a-secret",
  refreshToken: "sk-ant-ort01-concurrency-not-a-secret",
  expiresAt: 1_900_000_000_000,
  scopes: ["user:inference", "user:profile", "user:sessions:claude_code"],
  subscriptionType: "max",
  rateLimitTier: "default_claude_max_20x"
}
const mcpOAuth = { "github|1": { serverName: "github", accessToken: "mcp-not-ours", expiresAt: 1 } }

/** Runs WRITERS processes released together by a go-file; returns each writer's field history. */
const race = async (name: string, lock: "lock" | "nolock") => {
  const configDir = join(home.home, name)
  await rm(configDir, { recursive: true, force: true })
  await mkdir(configDir, { recursive: true, mode: 0o700 })
  const file = join(configDir, ".credentials.json")
  await writeFile(file, JSON.stringify({ claudeAiOauth: login, mcpOAuth }), { mode: 0o600 })
  const goFile = join(configDir, "..", `${name}.go`)
  const writers = Array.from({ length: WRITERS }, (_, i) =>
    spawnNode(workspace.harness, ["rmw", configDir, String(i), String(ROUNDS), goFile, lock], home.env, {
      timeoutMs: 60_000
    })
  )
  await Promise.all(writers.map((w) => w.printed("ready")))
  const started = Date.now()
  await writeFile(goFile, "")
  const ended = await Promise.all(writers.map((w) => w.ended))
  const ms = Date.now() - started
  await rm(goFile, { force: true })
  const document = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>
  const oauth = document["claudeAiOauth"] as Record<string, unknown>
  const histories = Array.from({ length: WRITERS }, (_, i) => oauth[`writer${i}`] as ReadonlyArray<number> | undefined)
  const lost = histories.reduce((n, h) => n + (ROUNDS - (h?.length ?? 0)), 0)
  return { configDir, file, document, oauth, histories, ended, ms, lost }
}

describe("read-modify-write of the store by 16 processes at once", () => {
  it(`under withStorageWriteLock: all ${WRITERS}×${ROUNDS} appends survive and the login is intact`, async () => {
    const run = await race("locked", "lock")
    console.log(`locked: ${WRITERS} writers × ${ROUNDS} rounds in ${run.ms} ms, ${run.lost} appends lost`)
    for (const [i, e] of run.ended.entries()) expect(e.code, `writer ${i}: ${e.stderr}`).toBe(0)
    const full = Array.from({ length: ROUNDS }, (_, r) => r + 1)
    expect(run.histories).toEqual(Array.from({ length: WRITERS }, () => full))
    expect(run.oauth).toMatchObject(login)
    expect(run.document["mcpOAuth"]).toEqual(mcpOAuth)
    expect((await lstat(run.file)).mode & 0o777).toBe(0o600)
    expect(await lstat(join(run.configDir, ".storage-write.lock")).catch(() => null)).toBeNull()
  }, 30_000)

  it("negative control: the same writers without the lock lose an append", async () => {
    // With 16 processes released together onto ~4 ms read-modify-writes on two cores the race is
    // reliable (typically dozens lost per attempt); a few attempts make a flake practically impossible.
    const attempts: Array<number> = []
    for (let attempt = 0; attempt < 3 && !attempts.some((lost) => lost > 0); attempt++) {
      const run = await race(`unlocked-${attempt}`, "nolock")
      attempts.push(run.lost)
      for (const [i, e] of run.ended.entries()) expect(e.code, `writer ${i}: ${e.stderr}`).toBe(0)
    }
    console.log(`unlocked: appends lost per attempt ${attempts.join(", ")}`)
    expect(attempts.some((lost) => lost > 0)).toBe(true)
  }, 60_000)
})
