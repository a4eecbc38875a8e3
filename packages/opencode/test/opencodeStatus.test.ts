// The real opencode 1.18 is the judge, offline against the simulator, loading the built bundle:
// `/tollgate` answers from the shared state file without a model call; malformed plugin options are
// told in opencode's log while the plugin still serves; TOLLGATE_API_BASE_URL alone redirects opencode.
import { join } from "node:path"
import { anthropicOAuth, type OpenCodeHome } from "@tollgate/conformance/OpenCode"
import { fingerprint } from "@tollgate/core/Credential"
import { describe, expect, it } from "vitest"
import * as AccountStore from "@tollgate/requests/AccountStore"
import { accountKey } from "@tollgate/requests/AuthorizedFetch"
import { expectBinaryInstalled, realOpencode, REPLY, runOpencode } from "./support/realOpencode.js"

const RUN_TIMEOUT = 60_000

const oc = realOpencode("tollgate-opencode-status-bundle-")

const stateFile = (home: OpenCodeHome) => join(home.env["XDG_STATE_HOME"]!, "tollgate", "opencode-accounts.json")

describe("opencode with the tollgate plugin: options and status (real binary, offline)", () => {
  it("the real opencode binary is installed", expectBinaryInstalled)

  it(
    "`/tollgate` while every account is capped shows every account of the state file and makes no model call",
    async () => {
      const sim = await oc.startSim()
      const home = await oc.makeSimHome(sim, {
        plugin: oc.plugin,
        auth: anthropicOAuth(sim.account)
      })
      // One opencode process serves a request: it records the auth.json login in the shared file.
      const first = await runOpencode(home, RUN_TIMEOUT)
      expect(first.exitCode, `${first.text}\n${await home.readLogs()}`).toBe(0)
      const store = AccountStore.make(stateFile(home))
      const authKey = accountKey(
        { type: "oauth", access: sim.account.accessToken, refresh: sim.account.refreshToken, expires: 0 },
        0
      )
      expect(Object.keys((await store.read()).accounts)).toContain(authKey)
      expect(sim.count("messages")).toBe(1)
      // Other processes (this test runner stands in for them) then saw that login capped, and a
      // second account of theirs out of extra usage until the user acts.
      const reset = Date.now() + 3 * 3_600_000
      await store.update(authKey, {
        verdict: "RateLimited",
        skipUntil: reset,
        blockedFingerprint: fingerprint(sim.account.refreshToken ?? sim.account.accessToken),
        fiveHour: 1,
        sevenDay: 0.61,
        resetsAt: reset
      })
      await store.update("oauth:account-2", {
        verdict: "ExtraUsageRequired",
        skipUntil: Number.POSITIVE_INFINITY,
        fiveHour: 1,
        sevenDay: 0.97
      })

      const run = await runOpencode(home, RUN_TIMEOUT, { prompt: "", extraArgs: ["--command", "tollgate"] })

      const context = `${run.text}\n${await home.readLogs()}`
      expect(run.stdout, context).toContain(
        `tollgate: accounts recorded by every opencode process (${stateFile(home)})`
      )
      expect(run.stdout).toMatch(
        new RegExp(`${authKey} +RateLimited +100% +61% +in 2h5\\dm|${authKey} +RateLimited +100% +61% +in 3h00m`)
      )
      expect(run.stdout).toMatch(/oauth:account-2 +ExtraUsageRequired +100% +97% +- +until you act/)
      // No model call: neither the prompt nor a title went upstream (the one call is the first run's).
      expect(sim.count("messages"), context).toBe(1)
      expect(run.text).not.toContain(sim.account.accessToken)
      expect(run.text).not.toContain(sim.account.refreshToken ?? "never")
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "malformed plugin options: the message is in opencode's log, and the plugin still serves the login",
    async () => {
      const sim = await oc.startSim()
      const home = await oc.makeSimHome(sim, {
        plugin: oc.plugin,
        pluginOptions: {
          accounts: [{ type: "bogus" }, { type: "api", keyEnv: "TOLLGATE_TEST_UNSET_KEY" }],
          strategy: "fastest"
        },
        auth: anthropicOAuth(sim.account)
      })

      const run = await runOpencode(home, RUN_TIMEOUT)

      const logs = await home.readLogs()
      expect(run.exitCode, `${run.text}\n${logs}`).toBe(0)
      expect(run.stdout).toContain(REPLY)
      const line = logs.split("\n").find((l) => l.includes("tollgate: the plugin options have 3 problems")) ?? ""
      expect(line, logs).toContain("level=WARN")
      expect(line).toContain('accounts[0].type \\"bogus\\" is not an account type')
      expect(line).toContain("accounts[1].keyEnv: the environment variable TOLLGATE_TEST_UNSET_KEY is not set")
      expect(line).toContain('strategy must be \\"failover\\"')
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "TOLLGATE_API_BASE_URL alone (no baseURL in opencode.json) sends opencode's message requests to it",
    async () => {
      const sim = await oc.startSim()
      const home = await oc.makeSimHome(sim, {
        // The helper's provider.anthropic.options.baseURL, replaced: only the plugin's loader can redirect.
        config: { provider: { anthropic: { options: {} } } },
        plugin: oc.plugin,
        auth: anthropicOAuth(sim.account)
      })
      const config = JSON.parse(
        await (await import("node:fs/promises")).readFile(join(home.project, "opencode.json"), "utf8")
      )
      expect(JSON.stringify(config)).not.toContain(sim.url)

      const run = await runOpencode(home, RUN_TIMEOUT)

      expect(run.exitCode, `${run.text}\n${await home.readLogs()}`).toBe(0)
      expect(run.stdout).toContain(REPLY)
      const messages = sim.log.filter((r) => r.route === "messages")
      expect(messages).toHaveLength(1)
      expect(messages[0]?.bearer).toBe(fingerprint(sim.account.accessToken))
    },
    RUN_TIMEOUT + 15_000
  )
})
