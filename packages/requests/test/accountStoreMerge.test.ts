// What a write does to the state kept under other keys: re-keying an account, and pruning entries no one writes.
import { mkdir, readdir, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as AccountStore from "../src/AccountStore.js"
import * as AccountState from "../src/internal/accountState.js"
import { cleanUpAfterEach, tempDir } from "./support/simulator.js"

cleanUpAfterEach()

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
