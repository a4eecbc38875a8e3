// Shared per-account state: across AuthorizedFetch instances (processes), restarts, and concurrent writers.
import * as Simulator from "@tollgate/conformance/Simulator"
import { fingerprint } from "@tollgate/core/Credential"
import { build } from "esbuild"
import { execFileSync, spawn } from "node:child_process"
import { mkdtemp, readdir, readFile, rm, stat, mkdir, symlink, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"
import * as AccountState from "../src/internal/accountState.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-accounts-"))
  // Retried: a fire-and-forget state update may still be renaming into the directory as the test ends (ENOTEMPTY).
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }))
  return dir
}

const start = async () => {
  const sim = await Simulator.start({ ttlMs: 120_000 })
  cleanups.push(() => sim.close())
  return sim
}

const oauth = (issued: Simulator.Issued): AuthorizedFetch.OAuthLogin => ({
  type: "oauth",
  access: issued.accessToken,
  refresh: issued.refreshToken,
  expires: issued.expiresAt
})

const envelope = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message } })

const capStep = (resetS: number) => ({
  status: 429,
  headers: {
    "content-type": "application/json",
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-reset": String(resetS),
    "anthropic-ratelimit-unified-5h-utilization": "1.0"
  },
  body: envelope("rate_limit_error", "This request would exceed your account's rate limit. Please try again later.")
})

const send = (fetch: AuthorizedFetch.AuthorizedFetch, sim: Simulator.Simulator) =>
  fetch(`${sim.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
  })

const lastMessage = (sim: Simulator.Simulator) => sim.log.filter((r) => r.route === "messages").at(-1)!

describe("AccountStore with AuthorizedFetch", () => {
  it("a cap seen by one process makes another skip that account, and a restart keeps it", async () => {
    const sim = await start()
    const dir = await tempDir()
    const path = join(dir, "state", "tollgate", "opencode-accounts.json")
    const key = "sk-ant-api03-second-account"
    const make = (onSwitch?: (e: AuthorizedFetch.SwitchEvent) => void) =>
      AuthorizedFetch.make({
        accounts: [oauth(sim.account), { type: "api", key }],
        settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url },
        store: AccountStore.make(path),
        ...(onSwitch ? { onSwitch } : {})
      })
    const switchesA: Array<AuthorizedFetch.SwitchEvent> = []
    const a = make((e) => switchesA.push(e))
    const b = make()

    // B first served by account #1.
    expect((await send(b, sim)).status).toBe(200)
    expect(lastMessage(sim).bearer).toBe(fingerprint(sim.account.accessToken))

    // A hits the cap on #1 and fails over to the API key.
    sim.script("messages", capStep(Math.floor(Date.now() / 1000) + 7200))
    expect((await send(a, sim)).status).toBe(200)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
    expect(switchesA).toHaveLength(1)
    expect(switchesA[0]).toMatchObject({ from: 0, to: 1 })

    // The file: fingerprints only, 0600 in a 0700 dir.
    const text = await readFile(path, "utf8")
    expect(text).not.toContain(sim.account.refreshToken)
    expect(text).not.toContain(sim.account.accessToken)
    expect(text).not.toContain(key)
    const file = JSON.parse(text) as AccountState.StoreFile
    const capped = file.accounts[AuthorizedFetch.accountKey(oauth(sim.account), 0)]!
    expect(capped.verdict).toBe("RateLimited")
    expect(capped.skipUntil).toBeGreaterThan(Date.now() + 3600_000)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, "state", "tollgate"))).mode & 0o777).toBe(0o700)

    // B goes straight to #2 without asking #1.
    const before = sim.count("messages")
    expect((await send(b, sim)).status).toBe(200)
    expect(sim.count("messages")).toBe(before + 1)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))

    // A restart (new instance over the same file) still skips #1.
    const c = make()
    expect((await send(c, sim)).status).toBe(200)
    expect(sim.count("messages")).toBe(before + 2)
    expect(lastMessage(sim).apiKey).toBe(fingerprint(key))
  })

  it("without a store nothing is written and behaviour is unchanged", async () => {
    const sim = await start()
    const fetch = AuthorizedFetch.make({
      accounts: [oauth(sim.account)],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    expect((await send(fetch, sim)).status).toBe(200)
  })

  it("records quota from the unified headers on success", async () => {
    const sim = await start()
    const dir = await tempDir()
    const path = join(dir, "accounts.json")
    sim.script("messages", {
      status: 200,
      headers: {
        "content-type": "application/json",
        "anthropic-ratelimit-unified-5h-utilization": "0.25",
        "anthropic-ratelimit-unified-7d-utilization": "0.5",
        "anthropic-ratelimit-unified-reset": "2000000000"
      },
      body: JSON.stringify({
        id: "m",
        type: "message",
        role: "assistant",
        content: [],
        model: "x",
        stop_reason: "end_turn"
      })
    })
    const store = AccountStore.make(path)
    const fetch = AuthorizedFetch.make({ accounts: [oauth(sim.account)], settings: { apiBaseUrl: sim.url }, store })
    expect((await send(fetch, sim)).status).toBe(200)
    // The success write is not awaited by the request; wait for it.
    let state: AccountState.AccountState | undefined
    for (let i = 0; i < 100 && state?.fiveHour == null; i++) {
      await new Promise((r) => setTimeout(r, 10))
      state = (await store.read()).accounts[AuthorizedFetch.accountKey(oauth(sim.account), 0)]
    }
    expect(state).toMatchObject({
      verdict: "Ok",
      skipUntil: null,
      fiveHour: 0.25,
      sevenDay: 0.5,
      resetsAt: 2_000_000_000_000
    })
  })
})

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

// The file as a test writes it directly: exact `updatedAt`s, no merge.
const seed = async (path: string, file: AccountStore.StoreFile) => {
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 })
  await writeFile(path, JSON.stringify(file), { mode: 0o600 })
}

const entryAt = (updatedAt: number, patch: Partial<AccountStore.AccountState> = {}): AccountStore.AccountState => ({
  verdict: "Ok",
  skipUntil: null,
  blockedFingerprint: null,
  fiveHour: null,
  sevenDay: null,
  resetsAt: null,
  updatedAt,
  ...patch
})

const backoffEntry = (until: number | null, failures = 1) => ({
  failures,
  until,
  blockedFingerprint: null,
  verdict: "RateLimited"
})

describe("AccountStore.rekey", () => {
  it("moves the account entry and its backoff entries to the new key, leaving other keys alone", async () => {
    const dir = await tempDir()
    const path = join(dir, "state", "opencode-accounts.json")
    const store = AccountStore.make(path)
    const until = Date.now() + 3_600_000
    await store.update("oauth:fp-old", { verdict: "RateLimited", skipUntil: until, fiveHour: 1 })
    await store.update("api:other", { verdict: "Ok" })
    await store.mergeBackoff({ "token oauth:fp-old": backoffEntry(until, 3), "token api:other": backoffEntry(null) })
    const before = (await store.read()).accounts["oauth:fp-old"]!
    const to = AccountStore.identityKey("oauth", "uuid-1")
    expect(to).toBe("oauth:id:uuid-1")

    const file = await store.rekey("oauth:fp-old", to)

    expect(file.accounts["oauth:fp-old"]).toBeUndefined()
    expect(file.accounts[to]).toEqual(before)
    expect(file.accounts["api:other"]?.verdict).toBe("Ok")
    expect(file.backoff).toEqual({ [`token ${to}`]: backoffEntry(until, 3), "token api:other": backoffEntry(null) })
    // What was written, not only what was returned.
    expect(await store.read()).toEqual(file)
  })

  it("a newer entry already under the target wins; a backoff entry holding longer there wins too", async () => {
    const dir = await tempDir()
    const path = join(dir, "a.json")
    const now = Date.now()
    const newer = entryAt(now - 1_000, { verdict: "Ok", fiveHour: 0.5 })
    await seed(path, {
      version: 1,
      accounts: { old: entryAt(now - 60_000, { verdict: "RateLimited", skipUntil: now + 60_000 }), new: newer },
      backoff: {
        "token old": backoffEntry(now + 1_000),
        "token new": backoffEntry(now + 9_000, 2),
        "authorize old": backoffEntry(now + 5_000)
      }
    })

    const file = await AccountStore.make(path).rekey("old", "new")

    expect(file.accounts).toEqual({ new: newer })
    expect(file.backoff).toEqual({
      "token new": backoffEntry(now + 9_000, 2),
      "authorize new": backoffEntry(now + 5_000)
    })
  })

  it("an older entry under the target is replaced by the moved one", async () => {
    const dir = await tempDir()
    const path = join(dir, "a.json")
    const now = Date.now()
    const moved = entryAt(now - 1_000, { verdict: "RateLimited", skipUntil: now + 60_000 })
    await seed(path, { version: 1, accounts: { old: moved, new: entryAt(now - 60_000) }, backoff: {} })
    expect((await AccountStore.make(path).rekey("old", "new")).accounts).toEqual({ new: moved })
  })

  it("writes nothing when the old key has no state (or is the target)", async () => {
    const dir = await tempDir()
    const missing = join(dir, "none", "a.json")
    expect(await AccountStore.make(missing).rekey("old", "new")).toEqual(AccountState.empty())
    // Not even the directory's file: nothing was written.
    expect(await readdir(join(dir, "none"))).toEqual([])

    const path = join(dir, "a.json")
    const now = Date.now()
    await seed(path, { version: 1, accounts: { other: entryAt(now) }, backoff: { "token other": backoffEntry(null) } })
    const before = await stat(path)
    const store = AccountStore.make(path)
    expect((await store.rekey("absent", "other")).accounts).toEqual({ other: entryAt(now) })
    expect((await store.rekey("other", "other")).accounts).toEqual({ other: entryAt(now) })
    // An atomic write renames a new inode into place; the same inode means no write.
    const after = await stat(path)
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs])
  })
})

describe("AccountStore pruning", () => {
  it("drops entries untouched for 30 days on the next write, keeping recent ones and ones still skipped", async () => {
    const dir = await tempDir()
    const path = join(dir, "a.json")
    const now = Date.now()
    const day = 24 * 60 * 60_000
    expect(AccountState.RETAIN_MS).toBe(30 * day)
    await seed(path, {
      version: 1,
      accounts: {
        retired: entryAt(now - 31 * day),
        recent: entryAt(now - 29 * day),
        "skipped-for-good": entryAt(now - 90 * day, { verdict: "OrgPolicyDenied", skipUntil: AccountState.FOREVER }),
        "skipped-until-tomorrow": entryAt(now - 40 * day, { verdict: "RateLimited", skipUntil: now + day }),
        "skip-ended": entryAt(now - 40 * day, { verdict: "RateLimited", skipUntil: now - 35 * day })
      },
      backoff: {
        "token long-over": backoffEntry(now - 31 * day),
        "token recently-over": backoffEntry(now - 29 * day),
        "token unbounded": backoffEntry(null),
        "token ahead": backoffEntry(now + day)
      }
    })
    const store = AccountStore.make(path)
    // Reading never prunes.
    expect(Object.keys((await store.read()).accounts)).toHaveLength(5)

    await store.update("writer", { verdict: "Ok" })

    const file = await store.read()
    expect(Object.keys(file.accounts).sort()).toEqual([
      "recent",
      "skipped-for-good",
      "skipped-until-tomorrow",
      "writer"
    ])
    expect(Object.keys(file.backoff).sort()).toEqual(["token ahead", "token recently-over", "token unbounded"])
  })
})

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
