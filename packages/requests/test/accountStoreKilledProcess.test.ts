// A writer that ends mid-update (process.exit, SIGTERM, SIGKILL): what it finishes, and what the next writer cleans up.
import { build } from "esbuild"
import { spawn } from "node:child_process"
import { readdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as AccountState from "../src/internal/accountState.js"
import { cleanUpAfterEach, tempDir } from "./support/simulator.js"

cleanUpAfterEach()

// A child Node process that takes the state file's lock exactly as AccountStore does
// (`withLock`, the same lock directory and owner record), opens a temp file for the
// state file as AtomicFile.write does, says "held", and waits to be killed.
const lockHolder = async (dir: string) => {
  const script = join(dir, "holder.mjs")
  const src = (file: string) => JSON.stringify(fileURLToPath(new URL(file, import.meta.url)))
  await build({
    stdin: {
      contents: `import * as S from ${src("../src/AccountStore.ts")}
import * as State from ${src("../src/internal/accountState.ts")}
import { AtomicFile } from "@tollgate/files"
const [path, then] = process.argv.slice(2)
const store = S.make(path)
await store.update("holder", { verdict: "Ok" })
if (then === "update-then-exit") {
  void store.update("exiting", { verdict: "Ok", fiveHour: 0.5 })
  process.exit(0)
}
if (then === "update-then-term") {
  void store.update("terminated", { verdict: "Ok", fiveHour: 0.5 })
  process.kill(process.pid, "SIGTERM")
}
await State.withLock(path, async () => {
  const temp = await AtomicFile.prepare(path, { mode: 0o600, durable: false })
  await temp.write('{"version":1,"accoun')
  process.stdout.write("held\\n")
  if (then === "exit") setTimeout(() => process.exit(0), 10)
  await new Promise(() => setInterval(() => {}, 1_000))
})
`,
      resolveDir: fileURLToPath(new URL("..", import.meta.url)),
      loader: "ts"
    },
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: script,
    logLevel: "silent"
  })
  return script
}

describe("AccountStore after a killed process", () => {
  const holdThen = async (dir: string, path: string, then: "wait" | "exit") => {
    const script = await lockHolder(dir)
    const child = spawn(process.execPath, [script, path, then], { stdio: ["ignore", "pipe", "inherit"] })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal }))
    )
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject)
      void exited.then(({ code }) => reject(new Error(`the lock holder exited (${code}) before holding the lock`)))
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("held")) resolve()
      })
    })
    return { child, exited }
  }

  it("a holder that gets SIGTERM while holding the lock releases it and removes its temp file, and still dies by SIGTERM", async () => {
    const dir = await tempDir()
    const stateDir = join(dir, "state", "tollgate")
    const path = join(stateDir, "opencode-accounts.json")
    const { child, exited } = await holdThen(dir, path, "wait")
    child.kill("SIGTERM")
    expect(await exited).toEqual({ code: null, signal: "SIGTERM" })
    expect((await readdir(stateDir)).sort()).toEqual(["opencode-accounts.json"])
    expect(Object.keys((await AccountStore.make(path).read()).accounts)).toEqual(["holder"])
  }, 30_000)

  const runToEnd = async (dir: string, path: string, then: "update-then-exit" | "update-then-term") => {
    const script = await lockHolder(dir)
    const child = spawn(process.execPath, [script, path, then], { stdio: ["ignore", "inherit", "inherit"] })
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once("error", reject)
      child.once("exit", (code, signal) => resolve({ code, signal }))
    })
  }

  it("an update started and not awaited when the process exits is written on the way out, leaving no lock or temp file", async () => {
    const dir = await tempDir()
    const stateDir = join(dir, "state", "tollgate")
    const path = join(stateDir, "opencode-accounts.json")
    expect(await runToEnd(dir, path, "update-then-exit")).toEqual({ code: 0, signal: null })
    expect((await readdir(stateDir)).sort()).toEqual(["opencode-accounts.json"])
    const file = await AccountStore.make(path).read()
    expect(Object.keys(file.accounts).sort()).toEqual(["exiting", "holder"])
    expect(file.accounts["exiting"]).toMatchObject({ verdict: "Ok", fiveHour: 0.5 })
  }, 30_000)

  it("an update under way when SIGTERM arrives is written, nothing is left, and the process still dies by SIGTERM", async () => {
    const dir = await tempDir()
    const stateDir = join(dir, "state", "tollgate")
    const path = join(stateDir, "opencode-accounts.json")
    expect(await runToEnd(dir, path, "update-then-term")).toEqual({ code: null, signal: "SIGTERM" })
    expect((await readdir(stateDir)).sort()).toEqual(["opencode-accounts.json"])
    expect(Object.keys((await AccountStore.make(path).read()).accounts).sort()).toEqual(["holder", "terminated"])
  }, 30_000)

  it("a holder whose process exits while holding the lock (process.exit) releases it and removes its temp file", async () => {
    const dir = await tempDir()
    const stateDir = join(dir, "state", "tollgate")
    const path = join(stateDir, "opencode-accounts.json")
    const { exited } = await holdThen(dir, path, "exit")
    expect(await exited).toEqual({ code: 0, signal: null })
    expect((await readdir(stateDir)).sort()).toEqual(["opencode-accounts.json"])
  }, 30_000)

  it("a lock left by a holder killed with SIGKILL is taken at once, and its temp file is removed by the next write", async () => {
    const dir = await tempDir()
    const stateDir = join(dir, "state", "tollgate")
    const path = join(stateDir, "opencode-accounts.json")
    const script = await lockHolder(dir)
    const child = spawn(process.execPath, [script, path], { stdio: ["ignore", "pipe", "inherit"] })
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal))
    )
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject)
      child.once("exit", (code) => reject(new Error(`the lock holder exited (${code}) before holding the lock`)))
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("held")) resolve()
      })
    })
    child.kill("SIGKILL")
    expect(await exited).toBe("SIGKILL")
    // What the killed holder left: its lock, its owner record, and its temp file.
    const left = (await readdir(stateDir)).sort()
    expect(left).toContain("opencode-accounts.json.lock")
    expect(left).toContain("opencode-accounts.json.lock.owner")
    expect(left.filter((name) => /^\.opencode-accounts\.json\.[0-9a-f]{16}\.tmp$/.test(name))).toHaveLength(1)
    // Fresh: well inside the 10 s staleness, so only the owner record can prove it abandoned.
    expect(Date.now() - (await stat(join(stateDir, "opencode-accounts.json.lock"))).mtimeMs).toBeLessThan(
      AccountState.STALE_LOCK_MS / 2
    )

    const started = performance.now()
    const file = await AccountStore.make(path).update("next", { verdict: "Ok" })
    const tookMs = performance.now() - started

    // The wall-time bound the issue asks for: the next write is not delayed by the 10 s staleness.
    expect(tookMs).toBeLessThan(3_000)
    expect(Object.keys(file.accounts).sort()).toEqual(["holder", "next"])
    expect((await readdir(stateDir)).sort()).toEqual(["opencode-accounts.json"])
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(file)
  }, 30_000)

  it("a temp file a killed writer left beside the state file is removed by the next write", async () => {
    const dir = await tempDir()
    const path = join(dir, "opencode-accounts.json")
    const store = AccountStore.make(path)
    await store.update("a", { verdict: "Ok" })
    const { AtomicFile } = await import("@tollgate/files")
    const orphan = AtomicFile.tempPathFor(path)
    await writeFile(orphan, '{"version":1,"acc', { mode: 0o600 })
    // Someone else's file that only looks alike is left alone.
    await writeFile(join(dir, ".opencode-accounts.json.not-ours.tmp"), "x")
    expect((await readdir(dir)).sort()).toHaveLength(3)

    await store.update("b", { verdict: "Ok" })

    expect((await readdir(dir)).sort()).toEqual([".opencode-accounts.json.not-ours.tmp", "opencode-accounts.json"])
    expect(Object.keys((await store.read()).accounts).sort()).toEqual(["a", "b"])
  })
})
