/**
 * RefreshState (issue 11, in process): `refresh.json` is never written through
 * a link planted at a predictable temp name, and a symlinked state directory
 * is refused before anything is read or written (`tollgate refresh` loads its
 * state first, so it refuses before spending a refresh token).
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as RefreshState from "../src/RefreshState.js"

let root = ""
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tollgate-safe-paths-"))
})
afterEach(() => rm(root, { recursive: true, force: true }))

// Never the real HOME: the state directory lives under root.
const run = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.runPromiseExit(
    effect.pipe(
      Effect.withConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["HOME", join(root, "home")],
            ["XDG_STATE_HOME", join(root, "state")]
          ])
        )
      )
    )
  )

const state: RefreshState.State = { version: 1, backoff: {}, last: { at: 1, outcome: "Refreshed", message: "ok" } }

describe("refresh.json", () => {
  it("a link planted at the old predictable temp name (refresh.json.<pid>.tmp) is not followed", async () => {
    const dir = join(root, "state", "tollgate")
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const victim = join(root, "victim")
    await writeFile(victim, "root-only\n", { mode: 0o600 })
    for (const name of [`refresh.json.${process.pid}.tmp`, "refresh.json.tmp", ".refresh.json.tmp"])
      await symlink(victim, join(dir, name))
    expect(Exit.isSuccess(await run(RefreshState.save(state)))).toBe(true)
    expect(await readFile(victim, "utf8")).toBe("root-only\n")
    expect(JSON.parse(await readFile(join(dir, "refresh.json"), "utf8"))).toEqual(state)
    expect((await stat(join(dir, "refresh.json"))).mode & 0o777).toBe(0o600)
  })

  it("a symlinked state directory is refused in one line by load and save, and nothing is written through it", async () => {
    const elsewhere = join(root, "elsewhere")
    await mkdir(elsewhere, { mode: 0o700 })
    await mkdir(join(root, "state"), { mode: 0o700 })
    const dir = join(root, "state", "tollgate")
    await symlink(elsewhere, dir)
    const why = `${dir} is a symlink; refusing to follow it`
    const failure = (exit: Exit.Exit<unknown, unknown>) =>
      Exit.isFailure(exit) && exit.cause._tag === "Fail" ? (exit.cause.error as Error).message : exit
    expect(failure(await run(RefreshState.load))).toBe(why)
    expect(failure(await run(RefreshState.save(state)))).toBe(why)
    expect(await readdir(elsewhere)).toEqual([])
  })

  it("a FIFO where refresh.json belongs is a fresh start, not a hang", async () => {
    const dir = join(root, "state", "tollgate")
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const { execFileSync } = await import("node:child_process")
    execFileSync("mkfifo", [join(dir, "refresh.json")])
    const loaded = await run(RefreshState.load)
    expect(loaded).toEqual(Exit.succeed({ version: 1, backoff: {}, last: null }))
  })
})

describe("RefreshState.directory", () => {
  const at = (env: ReadonlyArray<readonly [string, string]>) =>
    Effect.runPromise(RefreshState.directory.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(env)))))

  it("is $XDG_STATE_HOME/tollgate, the same directory the daemon and the gateway use", async () => {
    expect(
      await at([
        ["HOME", join(root, "home")],
        ["XDG_STATE_HOME", join(root, "state")]
      ])
    ).toBe(join(root, "state", "tollgate"))
  })

  it("ignores a relative or blank XDG_STATE_HOME as the XDG spec says, falling back to ~/.local/state", async () => {
    for (const xdg of ["relative/state", "  "])
      expect(
        await at([
          ["HOME", join(root, "home")],
          ["XDG_STATE_HOME", xdg]
        ])
      ).toBe(join(root, "home", ".local", "state", "tollgate"))
  })
})
