/**
 * Issue 11: the daemon's state file goes through @tollgate/files. What is not
 * a small regular file of ours is skipped with one warning line (the daemon
 * starts; ServiceUnit.test.ts runs the FIFO and /dev/zero cases as a real
 * `tollgate daemon run`), and saving never writes through a link.
 */
import { execFileSync } from "node:child_process"
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as Paths from "../src/Paths.js"
import type * as Quota from "../src/Quota.js"
import * as StateFile from "../src/StateFile.js"

let root = ""
let paths: Paths.Paths
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tollgate-statefile-"))
  paths = Paths.resolve({
    HOME: join(root, "home"),
    XDG_STATE_HOME: join(root, "state"),
    XDG_RUNTIME_DIR: join(root, "run")
  })
})
afterEach(() => rm(root, { recursive: true, force: true }))

const load = async () => {
  const warnings: Array<string> = []
  const state = await Effect.runPromise(StateFile.load(paths, (line) => warnings.push(line)))
  return { state, warnings }
}

describe("StateFile", () => {
  const cases = [
    {
      name: "a FIFO",
      plant: (file: string) => execFileSync("mkfifo", [file]),
      says: "is not a regular file (a fifo); refusing to read it"
    },
    {
      name: "a symlink to /dev/zero",
      plant: (file: string) => symlink("/dev/zero", file),
      says: "is a symlink; refusing to follow it"
    },
    {
      name: "a directory",
      plant: (file: string) => mkdir(file),
      says: "is not a regular file (a directory); refusing to read it"
    },
    {
      name: "over 1 MiB",
      plant: (file: string) => writeFile(file, `{${" ".repeat(StateFile.MAX_BYTES)}}`),
      says: "is larger than 1048576 bytes; refusing to read it"
    }
  ]
  it.for(cases)("skips a daemon.json that is $name with one warning line, at once", async (c) => {
    await mkdir(paths.stateDir, { recursive: true, mode: 0o700 })
    await c.plant(paths.stateFile)
    const started = Date.now()
    const { state, warnings } = await load()
    expect(state).toBeUndefined()
    expect(warnings).toEqual([`tollgate daemon: ignoring the saved state: ${paths.stateFile} ${c.says}`])
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it("saves over a planted link instead of through it, never following a planted temp name either", async () => {
    await mkdir(paths.stateDir, { recursive: true, mode: 0o700 })
    const victim = join(root, "victim")
    await writeFile(victim, "root-only\n")
    await symlink(victim, paths.stateFile)
    for (const name of ["daemon.json.tmp", `daemon.json.${process.pid}.tmp`])
      await symlink(victim, join(paths.stateDir, name))
    const state = { version: 1 } as unknown as Quota.Persisted
    await Effect.runPromise(StateFile.save(paths, state))
    expect(await readFile(victim, "utf8")).toBe("root-only\n")
    expect(await readFile(paths.stateFile, "utf8")).toBe('{"version":1}\n')
    expect((await stat(paths.stateFile)).mode & 0o777).toBe(0o600)
  })

  it("refuses to save into a symlinked state directory, in one line, writing nothing through it", async () => {
    const elsewhere = join(root, "elsewhere")
    await mkdir(elsewhere, { mode: 0o700 })
    await mkdir(join(root, "state"))
    await symlink(elsewhere, paths.stateDir)
    const error = await Effect.runPromise(Effect.flip(StateFile.save(paths, {} as Quota.Persisted)))
    expect(error.message).toBe(`could not save the daemon state: ${paths.stateDir} is a symlink; refusing to follow it`)
    expect(await readdir(elsewhere)).toEqual([])
  })
})
