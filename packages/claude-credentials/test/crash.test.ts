// Crash safety of FileStore.write: a writer SIGKILLed at a random instant
// leaves `.credentials.json` holding exactly one complete document it wrote —
// the one before the interrupted write or the one after it — with mode 0600,
// never empty, never half of each; and any temp file it leaves behind is
// never readable by others.
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { isDeepStrictEqual } from "node:util"
import { makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { crashDocument } from "./harness/documents.js"
import { makeWorkspace, spawnNode, type Workspace } from "./harness/bundle.js"

const MIN_CYCLES = 500
const MIN_KILLS = 60
/** At most this many completed writes before the random kill instant (so ≥500 writes take ~70 spawns, on any machine). */
const WRITES_BEFORE_KILL = 12
/** Our temp files: `.credentials.json.<16 hex>.tmp` (AtomicFile's names). */
const TEMP_NAME = /^\.credentials\.json\.[0-9a-f]{16}\.tmp$/

let workspace: Workspace
let home: TempHome

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-crash-")
  home = await makeTempHome("tollgate-crash-home-")
})

afterAll(async () => {
  await home?.cleanup()
  await workspace?.cleanup()
})

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe("FileStore.write killed with SIGKILL at random instants", () => {
  it(`leaves the old or the new complete document, mode 0600, over ≥${MIN_KILLS} kills and ≥${MIN_CYCLES} writes`, async () => {
    const configDir = join(home.home, "store")
    const file = join(configDir, ".credentials.json")
    // The first document is the test's own; every later one the writer's.
    await mkdir(configDir, { recursive: true, mode: 0o700 })
    await writeFile(file, `${JSON.stringify(crashDocument(0), null, 2)}\n`, { mode: 0o600 })

    let cycles = 0
    let kills = 0
    let landedOnNew = 0
    let maxLeftovers = 0
    const problems: Array<string> = []
    let counter = 0
    const started = Date.now()
    while ((cycles < MIN_CYCLES || kills < MIN_KILLS) && problems.length === 0 && Date.now() - started < 120_000) {
      const child = spawnNode(workspace.harness, ["write-loop", configDir, String(counter)], home.env, {
        timeoutMs: 20_000
      })
      await child.printed("start")
      // Let a random number of writes complete first, then kill at a random
      // instant: the kill lands anywhere in a write (or before the first),
      // and the writes per spawn do not depend on how slowly node starts.
      const settled = Math.floor(Math.random() * (WRITES_BEFORE_KILL + 1))
      if (settled > 0) await child.printed(`\n${counter + settled}\n`)
      await sleep(Math.random() * 30)
      child.kill("SIGKILL")
      const ended = await child.ended
      kills++
      if (ended.signal !== "SIGKILL")
        problems.push(
          `kill ${kills}: the writer ended with ${ended.code ?? ended.signal} before the kill: ${ended.stderr}`
        )
      const written = ended.stdout
        .split("\n")
        .slice(1)
        .filter((l) => /^\d+$/.test(l))
        .map(Number)
      cycles += written.length
      const lastCompleted = written.length > 0 ? written[written.length - 1]! : counter

      const stat = await lstat(file).catch(() => null)
      if (stat === null) {
        problems.push(`kill ${kills}: the store file is gone`)
        break
      }
      if (!stat.isFile()) problems.push(`kill ${kills}: the store is not a regular file`)
      if (stat.size === 0) problems.push(`kill ${kills}: the store is empty`)
      if ((stat.mode & 0o777) !== 0o600) problems.push(`kill ${kills}: store mode ${(stat.mode & 0o777).toString(8)}`)
      let document: Record<string, unknown> | null = null
      try {
        document = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>
      } catch {
        problems.push(`kill ${kills}: the store does not parse (${stat.size} bytes)`)
      }
      const found = (document?.["claudeAiOauth"] as Record<string, unknown> | undefined)?.["counter"]
      if (found !== lastCompleted && found !== lastCompleted + 1) {
        problems.push(
          `kill ${kills}: the store holds write ${String(found)}; the last completed write was ${lastCompleted}`
        )
      } else if (document !== null && !isDeepStrictEqual(document, crashDocument(found))) {
        problems.push(
          `kill ${kills}: the store holds a document the writer never wrote (counter ${found}, not equal to it)`
        )
      } else if (found === lastCompleted + 1) landedOnNew++
      if (typeof found === "number") counter = found

      const names = await readdir(configDir)
      const leftovers = names.filter((n) => n !== ".credentials.json")
      maxLeftovers = Math.max(maxLeftovers, leftovers.length)
      for (const name of leftovers) {
        if (!TEMP_NAME.test(name)) problems.push(`kill ${kills}: unexpected file ${name}`)
        const mode = (await lstat(join(configDir, name)).catch(() => null))?.mode
        if (mode !== undefined && (mode & 0o177) !== 0)
          problems.push(`kill ${kills}: leftover ${name} has mode ${(mode & 0o777).toString(8)}`)
      }
    }
    console.log(
      `crash: ${kills} kills, ${cycles} completed writes, ${landedOnNew} kills landed between rename and report, ` +
        `at most ${maxLeftovers} leftover temp files, ${Date.now() - started} ms`
    )
    expect(problems).toEqual([])
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS)
    expect(cycles).toBeGreaterThanOrEqual(MIN_CYCLES)
  }, 150_000)
})
