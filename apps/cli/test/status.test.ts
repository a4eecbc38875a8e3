// `tollgate status` reads the opencode plugin's shared state file from the sandbox's XDG_STATE_HOME.
import * as AccountStore from "@tollgate/requests/AccountStore"
import { join } from "node:path"
import { describe, expect } from "vitest"
import { test, tollgate } from "./tollgate.js"

const stateFile = (env: Readonly<Record<string, string>>) =>
  join(env["XDG_STATE_HOME"]!, "tollgate", "opencode-accounts.json")

describe("tollgate status", () => {
  test.concurrent("shows every account of the state file with verdict, quota, reset and skip", async ({ sandbox }) => {
    const path = stateFile(sandbox.env)
    expect(AccountStore.defaultPath(sandbox.env)).toBe(path)
    const store = AccountStore.make(path)
    const hour = Date.now() + 3_600_000
    await store.update("oauth:id:uuid-1", {
      verdict: "RateLimited",
      skipUntil: hour,
      fiveHour: 1,
      sevenDay: 0.42,
      resetsAt: hour
    })
    await store.update("api:fp-2", { verdict: "Ok", fiveHour: 0.1, sevenDay: 0.2 })
    await store.mergeBackoff({
      "token oauth:id:uuid-1": { failures: 1, until: hour, blockedFingerprint: null, verdict: "RateLimited" }
    } as never)

    const run = await tollgate(sandbox, ["status"])
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trimEnd().split("\n")
    expect(lines[0]).toBe(`tollgate: accounts recorded by every opencode process (${path})`)
    expect(lines[1]).toMatch(/^ACCOUNT +VERDICT +5H +7D +RESETS +SKIPPED +UPDATED$/)
    expect(lines[2]).toMatch(/^api:fp-2 +Ok +10% +20% +- +- +\d+(s|m) ago$/)
    expect(lines[3]).toMatch(
      /^oauth:id:uuid-1 +RateLimited +100% +42% +in (5\dm|1h00m) +for (5\dm|1h00m) +\d+(s|m) ago$/
    )
    expect(lines[4]).toMatch(
      /^token endpoint for oauth:id:uuid-1: backing off for (5\dm|1h00m) after 1 failure \(RateLimited\)$/
    )

    const json = await tollgate(sandbox, ["status", "--json"])
    expect(json.code, json.stderr).toBe(0)
    const view = JSON.parse(json.stdout) as {
      path: string
      accounts: Array<Record<string, unknown>>
      backoff: Array<Record<string, unknown>>
    }
    expect(view.path).toBe(path)
    expect(view.accounts).toEqual([
      expect.objectContaining({ account: "api:fp-2", verdict: "Ok", fiveHour: 0.1, sevenDay: 0.2, skipUntil: null }),
      expect.objectContaining({
        account: "oauth:id:uuid-1",
        verdict: "RateLimited",
        fiveHour: 1,
        sevenDay: 0.42,
        skipUntil: hour,
        resetsAt: hour
      })
    ])
    expect(view.backoff).toEqual([
      { endpoint: "token", account: "oauth:id:uuid-1", failures: 1, until: hour, verdict: "RateLimited" }
    ])
  })

  test.concurrent("an account skipped until the user acts says so; JSON says forever", async ({ sandbox }) => {
    await AccountStore.make(stateFile(sandbox.env)).update("api:fp-3", {
      verdict: "OrgPolicyDenied",
      skipUntil: Number.POSITIVE_INFINITY
    })
    const run = await tollgate(sandbox, ["status"])
    expect(run.stdout).toMatch(/api:fp-3 +OrgPolicyDenied +- +- +- +until you act/)
    const json = JSON.parse((await tollgate(sandbox, ["status", "--json"])).stdout) as {
      accounts: Array<{ skipUntil: unknown }>
    }
    expect(json.accounts[0]?.skipUntil).toBe("forever")
  })

  test.concurrent("no state file: a sentence, exit 0, and an empty JSON view", async ({ sandbox }) => {
    const run = await tollgate(sandbox, ["status"])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("No account has been used through tollgate yet.")
    const json = JSON.parse((await tollgate(sandbox, ["status", "--json"])).stdout) as Record<string, unknown>
    expect(json).toEqual({ path: stateFile(sandbox.env), accounts: [], backoff: [] })
  })
})
