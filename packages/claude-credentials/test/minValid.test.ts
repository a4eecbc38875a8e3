// The conditional refresh `tollgate token` is built on: `minValidMs` (refresh
// when the token expires within it, capped at MAX_MIN_VALID_MS) and
// `rejectedFingerprint` (refresh only if the store still holds the token that
// got a 401). Real files in a temp HOME, the simulator over real HTTP.
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import { Backoff, Credential, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { afterEach, describe, expect, it } from "vitest"
import * as ClaudeCredentials from "../src/ClaudeCredentials.js"
import type * as Refresher from "../src/Refresher.js"
import * as StoreLocation from "../src/StoreLocation.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

const MINUTE = 60_000

/** A store whose token expires in `expiresInMs`, and a simulator that issued it. */
const setup = async (expiresInMs: number) => {
  const sim = await Simulator.start({
    scenario: { name: "min-valid", summary: "a login that expires in a given time", account: { expiresInMs } }
  })
  const home: TempHome = await makeTempHome("tollgate-min-valid-")
  cleanups.push(
    () => sim.close(),
    () => home.cleanup()
  )
  const location = StoreLocation.resolve({ HOME: home.home, USER: "tollgate-test" })
  await mkdir(join(home.home, ".claude"), { recursive: true, mode: 0o700 })
  const record = {
    accessToken: sim.account.accessToken,
    refreshToken: sim.account.refreshToken,
    expiresAt: sim.account.expiresAt,
    scopes: [...sim.account.scopes],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x"
  }
  await writeFile(location.file, JSON.stringify({ claudeAiOauth: record }), { mode: 0o600 })
  const refresh = (options: Refresher.RefreshOptions) =>
    Effect.runPromise(
      ClaudeCredentials.open(location, { platform: "linux", lock: { waitMs: 5_000 } }).pipe(
        Effect.flatMap((opened) => opened.refresher.refresh(options)),
        Effect.provide(Layer.effect(Backoff.Backoff, Backoff.make())),
        Effect.provide(
          OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: sim.url, oauthBaseUrl: sim.url })))
        ),
        Effect.provide(NodeHttpClient.layerUndici)
      )
    )
  const stored = async () => JSON.parse(await readFile(location.file, "utf8")).claudeAiOauth as Record<string, unknown>
  return { sim, record, refresh, stored }
}

describe("Refresher.refresh with minValidMs / rejectedFingerprint", () => {
  it("a token valid beyond minValidMs: NotNeeded, no call, the stored token returned", async () => {
    const { sim, record, refresh } = await setup(30 * MINUTE)
    const outcome = await refresh({ minValidMs: 10 * MINUTE })
    expect(outcome._tag).toBe("NotNeeded")
    expect(Redacted.value(outcome.accessToken) === record.accessToken).toBe(true)
    expect(outcome.fingerprint).toBe(Credential.fingerprint(record.accessToken))
    expect(sim.count("token")).toBe(0)
  })

  it("a token valid for longer than Claude Code's five minutes but less than minValidMs: refreshed once, every other field kept", async () => {
    const { sim, record, refresh, stored } = await setup(8 * MINUTE)
    const outcome = await refresh({ minValidMs: 10 * MINUTE })
    expect(outcome._tag).toBe("Refreshed")
    expect(sim.count("token")).toBe(1)
    const after = await stored()
    expect(after["accessToken"] === sim.current().accessToken).toBe(true)
    expect(Redacted.value(outcome.accessToken) === sim.current().accessToken).toBe(true)
    expect(after).toMatchObject({
      subscriptionType: "max",
      rateLimitTier: "default_claude_max_20x",
      scopes: record.scopes
    })
  })

  it("minValidMs beyond what a fresh token gives is capped: a just-refreshed token is not refreshed again", async () => {
    const { sim, refresh } = await setup(2 * MINUTE)
    expect((await refresh({ minValidMs: 999_999_000 }))._tag).toBe("Refreshed")
    const again = await refresh({ minValidMs: 999_999_000 })
    expect(again._tag).toBe("NotNeeded")
    expect(sim.count("token")).toBe(1)
  })

  it("rejectedFingerprint of the stored token: refreshed even though it is valid for hours", async () => {
    const { sim, record, refresh } = await setup(4 * 60 * MINUTE)
    const outcome = await refresh({ rejectedFingerprint: Credential.fingerprint(record.accessToken) })
    expect(outcome._tag).toBe("Refreshed")
    expect(sim.count("token")).toBe(1)
    expect(outcome.fingerprint).not.toBe(Credential.fingerprint(record.accessToken))
  })

  it("rejectedFingerprint of an older token: the newer stored token, no call", async () => {
    const { sim, record, refresh } = await setup(4 * 60 * MINUTE)
    const outcome = await refresh({ rejectedFingerprint: Credential.fingerprint("an-older-token") })
    expect(outcome._tag).toBe("NotNeeded")
    expect(Redacted.value(outcome.accessToken) === record.accessToken).toBe(true)
    expect(sim.count("token")).toBe(0)
  })

  it("without the new options the old behaviour stands: a plain refresh forces one", async () => {
    const { sim, refresh } = await setup(4 * 60 * MINUTE)
    expect((await refresh({}))._tag).toBe("Refreshed")
    expect((await refresh({ ifNeeded: true }))._tag).toBe("NotNeeded")
    expect(sim.count("token")).toBe(1)
  })
})
