// Every reader of Claude Code's store — doctor, `tollgate refresh`, the
// daemon's login — parses it with Credential.parseDocument, so they agree on
// odd files: a byte order mark is accepted by all three, a document too deep
// to write back is refused by all three.
import { Credential } from "@tollgate/core"
import * as Login from "@tollgate/daemon/Login"
import * as Simulator from "@tollgate/conformance/Simulator"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe } from "vitest"
import { type Sandbox, test as it, tollgate } from "./tollgate.js"

const writeStore = async (sandbox: Sandbox, text: string): Promise<string> => {
  const dir = join(sandbox.home, ".claude")
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, ".credentials.json")
  await writeFile(path, text, { mode: 0o600 })
  return path
}

const daemonLogin = (sandbox: Sandbox) =>
  Effect.runPromise(
    Login.read.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["HOME", sandbox.home]]))))
  )

const login = (issued: Simulator.Issued) => ({
  accessToken: issued.accessToken,
  refreshToken: issued.refreshToken,
  expiresAt: issued.expiresAt,
  scopes: [...issued.scopes],
  subscriptionType: "max"
})

describe("one reader of Claude Code's store", () => {
  it("a store with a UTF-8 byte order mark: doctor, refresh and the daemon all read it", async ({
    expect,
    sandbox
  }) => {
    const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 120_000 })
    try {
      const path = await writeStore(
        sandbox,
        `\uFEFF${JSON.stringify({ claudeAiOauth: login(sim.account), mcpOAuth: {} }, null, 2)}`
      )
      const fingerprint = Credential.fingerprint(sim.account.accessToken)

      const doctor = await tollgate(sandbox, ["doctor", "--json"])
      expect(doctor.code, doctor.stderr).toBe(0)
      expect(JSON.parse(doctor.stdout)).toMatchObject({ found: true, source: "file", fingerprint })

      const daemon = await daemonLogin(sandbox)
      expect(daemon?.snapshot.fingerprint).toBe(fingerprint)

      const refresh = await tollgate(sandbox, ["refresh", "--json"], { env: sim.env })
      expect(refresh.code, refresh.stderr).toBe(0)
      expect(JSON.parse(refresh.stdout)).toMatchObject({ outcome: "Refreshed", backend: "file" })
      expect(sim.count("token")).toBe(1)
      // Written back as Claude Code writes it: without the mark, every other key kept.
      const after = await readFile(path, "utf8")
      expect(after.charCodeAt(0)).toBe("{".charCodeAt(0))
      const document = JSON.parse(after) as { claudeAiOauth: { accessToken: string }; mcpOAuth: unknown }
      expect(document.claudeAiOauth.accessToken === sim.current().accessToken).toBe(true)
      expect(document.mcpOAuth).toEqual({})
      for (const token of [sim.account.accessToken, sim.account.refreshToken ?? "", sim.current().accessToken]) {
        expect(doctor.stdout.includes(token) || refresh.stdout.includes(token) || refresh.stderr.includes(token)).toBe(
          false
        )
      }
    } finally {
      await sim.close()
    }
  }, 60_000)

  it("a store nested 6,000 levels deep in a foreign key: doctor and the daemon refuse it alike", async ({
    expect,
    sandbox
  }) => {
    const access = "sk-ant-oat01-DeepStoreFixture-0123456789"
    const deep = `${"[".repeat(6_000)}${"]".repeat(6_000)}`
    await writeStore(
      sandbox,
      `{"claudeAiOauth":{"accessToken":"${access}","scopes":["user:inference"]},"foreign":${deep}}`
    )
    const text = await tollgate(sandbox, ["doctor"])
    const json = await tollgate(sandbox, ["doctor", "--json"])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout.split("\n")[0]).toMatch(
      /^No Claude Code login found in .*: the file nests deeper than 64 levels; tollgate does not read it, as it could not write it back safely\. /
    )
    expect(JSON.parse(json.stdout)).toMatchObject({ found: false, reason: "too_deep", fingerprint: null })
    expect(text.stdout + json.stdout + text.stderr + json.stderr).not.toContain(access)
    expect(await daemonLogin(sandbox)).toBeNull()
  }, 60_000)

  it("a store over 1 MiB is not read by doctor", async ({ expect, sandbox }) => {
    await writeStore(sandbox, JSON.stringify({ claudeAiOauth: { accessToken: "a" }, pad: "x".repeat(1024 * 1024) }))
    const run = await tollgate(sandbox, ["doctor", "--json"])
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ found: false, reason: "too_large" })
    expect(await daemonLogin(sandbox)).toBeNull()
  }, 60_000)
})
