// The account-state file itself: concurrent writers, a stale lock, a corrupt file, and the paths it refuses.
import { build } from "esbuild"
import { execFileSync, spawn } from "node:child_process"
import { mkdir, readdir, stat, symlink, utimes } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as AccountState from "../src/internal/accountState.js"
import { cleanUpAfterEach, tempDir } from "./support/simulator.js"

cleanUpAfterEach()

describe("AccountStore file", () => {
  it("concurrent writers from N processes lose no update", async () => {
    const dir = await tempDir()
    const path = join(dir, "state", "opencode-accounts.json")
    const script = join(dir, "writer.mjs")
    await build({
      stdin: {
        contents: `import * as S from ${JSON.stringify(fileURLToPath(new URL("../src/AccountStore.ts", import.meta.url)))}
const [path, id, n] = process.argv.slice(2)
const store = S.make(path)
for (let i = 0; i < Number(n); i++) await store.update(\`w\${id}-\${i}\`, { verdict: "Ok", fiveHour: i })
`,
        resolveDir: dir,
        loader: "ts"
      },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: script,
      logLevel: "silent"
    })
    const N = 6
    const per = 15
    await Promise.all(
      Array.from(
        { length: N },
        (_, id) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [script, path, String(id), String(per)], { stdio: "inherit" })
            child.on("error", reject)
            child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}`))))
          })
      )
    )
    const file = await AccountStore.make(path).read()
    expect(Object.keys(file.accounts)).toHaveLength(N * per)
    // No temp files or lock left behind.
    expect((await readdir(join(dir, "state"))).sort()).toEqual(["opencode-accounts.json"])
  }, 30_000)

  it("takes over a stale lock", async () => {
    const dir = await tempDir()
    const path = join(dir, "a.json")
    await mkdir(`${path}.lock`)
    const old = new Date(Date.now() - 20_000)
    await utimes(`${path}.lock`, old, old)
    const file = await AccountStore.make(path).update("k", { verdict: "Ok" })
    expect(file.accounts["k"]?.verdict).toBe("Ok")
  })

  it("reads a corrupt or foreign file as empty and never stores Infinity", async () => {
    const dir = await tempDir()
    const path = join(dir, "a.json")
    const { writeFile } = await import("node:fs/promises")
    await writeFile(path, "{not json")
    const store = AccountStore.make(path)
    expect((await store.read()).accounts).toEqual({})
    const file = await store.update("k", { skipUntil: Number.POSITIVE_INFINITY })
    expect(file.accounts["k"]?.skipUntil).toBe(AccountState.FOREVER)
    expect((await store.read()).accounts["k"]?.skipUntil).toBe(AccountState.FOREVER)
  })
})

// Issue 11: the account-state file goes through @tollgate/files like every other state file.
describe("the account-state file's paths", () => {
  it("a symlinked tollgate/ state directory is refused and nothing is written through it", async () => {
    const root = await tempDir()
    const elsewhere = join(root, "elsewhere")
    await mkdir(elsewhere, { mode: 0o700 })
    await symlink(elsewhere, join(root, "tollgate"))
    const store = AccountStore.make(join(root, "tollgate", "opencode-accounts.json"))
    await expect(store.update("a", { verdict: "Ok" })).rejects.toThrow(
      `${join(root, "tollgate")} is a symlink; refusing to follow it`
    )
    expect(await readdir(elsewhere)).toEqual([])
  })

  it("a FIFO where the file belongs reads as empty at once, and the next write replaces it with a 0600 file", async () => {
    const dir = join(await tempDir(), "tollgate")
    await mkdir(dir, { mode: 0o700 })
    const path = join(dir, "opencode-accounts.json")
    execFileSync("mkfifo", [path])
    const store = AccountStore.make(path)
    expect(await store.read()).toEqual(AccountState.empty())
    await store.update("a", { verdict: "Ok" })
    expect((await stat(path)).isFile()).toBe(true)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([])
  })
})
