// What the refresh-lock tests share: a store in a temp dir, what it leaves behind, and the harness child.
import { createRequire } from "node:module"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import * as StoreLocation from "../../src/StoreLocation.js"

export const tsx = createRequire(import.meta.url).resolve("tsx/esm")
export const harness = fileURLToPath(new URL("../RefreshLock.harness.ts", import.meta.url))

export interface Store {
  readonly location: StoreLocation.Location
  readonly lock: string
  readonly legacy: string
  readonly owner: string
  readonly storageWrite: string
}

export const storeAt = (configDir: string, home = configDir): Effect.Effect<Store> =>
  Effect.promise(async () => {
    const location = StoreLocation.resolve({ HOME: home, CLAUDE_CONFIG_DIR: configDir })
    return {
      location,
      lock: path.join(location.configDir, ".oauth_refresh.lock"),
      legacy: `${await fs.realpath(location.configDir)}.lock`,
      owner: path.join(location.configDir, ".oauth_refresh.lock.owner"),
      storageWrite: path.join(location.configDir, ".storage-write.lock")
    }
  })

/** A config dir in a fresh temp directory (never the real HOME), removed when the test's scope closes. */
export const tempStore = Effect.acquireRelease(
  Effect.promise(async () => {
    const root = await fs.mkdtemp(path.join(tmpdir(), "tollgate-lock-"))
    await fs.mkdir(path.join(root, ".claude"), { mode: 0o700 })
    return root
  }),
  (root) => Effect.promise(() => fs.rm(root, { recursive: true, force: true }))
).pipe(Effect.flatMap((root) => storeAt(path.join(root, ".claude"), root)))

export const exists = (p: string) =>
  Effect.promise(() =>
    fs.lstat(p).then(
      () => true,
      () => false
    )
  )
export const leftovers = (store: Store) =>
  Effect.all({
    lock: exists(store.lock),
    legacy: exists(store.legacy),
    owner: exists(store.owner),
    storageWrite: exists(store.storageWrite),
    tmp: Effect.promise(() => fs.readdir(store.location.configDir)).pipe(
      Effect.map((names) => names.filter((n) => n.includes(".tmp.")))
    )
  })
export const nothingLeft = { lock: false, legacy: false, owner: false, storageWrite: false, tmp: [] }

export const now = Effect.sync(() => Date.now())
export const ageDir = (p: string, ageMs: number) =>
  Effect.promise(() => fs.utimes(p, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs)))
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Runs work inside the lock, failing the test if two holders are ever inside at once. */
export const exclusive = () => {
  let inside = 0
  let most = 0
  let done = 0
  return {
    stats: () => ({ most, done }),
    body: (ms: number) =>
      Effect.acquireUseRelease(
        Effect.sync(() => (most = Math.max(most, ++inside))),
        () => Effect.sleep(ms),
        () =>
          Effect.sync(() => {
            inside--
            done++
          })
      )
  }
}

export const spawnHarness = (args: ReadonlyArray<string>): ChildProcess =>
  spawn(process.execPath, ["--import", tsx, harness, ...args], { stdio: ["ignore", "pipe", "pipe"] })

export const exited = (child: ChildProcess) =>
  Effect.async<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resume) => {
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("exit", (code, signal) => resume(Effect.succeed({ code, signal, stderr })))
  })

export const printed = (child: ChildProcess, text: string) =>
  Effect.async<void>((resume) => {
    let out = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes(text)) resume(Effect.void)
    })
  })
