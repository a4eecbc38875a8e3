import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Credential from "../src/Credential.js"

describe("the claudeAiOauth record", () => {
  it.effect("keeps every unknown field, top-level and inside the record, on a round trip", () =>
    Effect.gen(function* () {
      const original = {
        claudeAiOauth: {
          accessToken: "a",
          refreshToken: "r",
          expiresAt: 1,
          scopes: ["user:inference"],
          subscriptionType: "max",
          rateLimitTier: "default_claude_max_20x",
          refreshTokenExpiresAt: 2,
          accountUuid: "u",
          someFutureField: { nested: [1, 2] }
        },
        mcpOAuth: { server: { token: "x" } },
        pluginSecrets: {}
      }
      const decoded = yield* Credential.decodeDocumentJson(JSON.stringify(original))
      expect(Schema.encodeSync(Credential.Document)(decoded)).toEqual(original)
    })
  )

  it.effect("accepts a file that holds only mcpOAuth", () =>
    Effect.gen(function* () {
      const decoded = yield* Credential.decodeDocumentJson('{"mcpOAuth":{}}')
      expect(decoded.claudeAiOauth).toBeUndefined()
    })
  )

  it("expires with Claude Code's five-minute skew; null never expires", () => {
    const t = 1_000_000_000
    expect(Credential.isExpired(t + 5 * 60_000, t)).toBe(true)
    expect(Credential.isExpired(t + 5 * 60_000 + 1, t)).toBe(false)
    expect(Credential.isExpired(null, t)).toBe(false)
    expect(Credential.isExpired(t, t - 1, 0)).toBe(false)
  })

  it("fingerprints are stable, distinct and do not contain the token", () => {
    const a = Credential.fingerprint("sk-ant-oat01-aaaa")
    expect(a).toBe(Credential.fingerprint("sk-ant-oat01-aaaa"))
    expect(a).not.toBe(Credential.fingerprint("sk-ant-oat01-aaab"))
    expect(a).not.toContain("aaaa")
    expect(a).toMatch(/^fp_[0-9a-f]{16}$/)
  })
})
