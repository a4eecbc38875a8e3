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
      const decoded = yield* Credential.parseDocument(JSON.stringify(original))
      expect(Schema.encodeSync(Credential.Document)(decoded)).toEqual(original)
    })
  )

  it.effect("accepts a file that holds only mcpOAuth", () =>
    Effect.gen(function* () {
      const decoded = yield* Credential.parseDocument('{"mcpOAuth":{}}')
      expect(decoded.claudeAiOauth).toBeUndefined()
    })
  )

  it("bad files are typed errors whose messages never quote the file", () => {
    const secret = "sk-ant-oat01-SECRETSECRET"
    for (const [text, reason] of [
      [`{"claudeAiOauth":{"accessToken":"${secret}"`, "not_json"],
      [`"${secret}"`, "not_an_object"],
      [`{"claudeAiOauth":{"accessToken":42,"refreshToken":"${secret}"}}`, "malformed_login"]
    ] as const) {
      const result = Credential.parseDocument(text)
      expect(result._tag).toBe("Left")
      if (result._tag === "Left") {
        expect(result.left.reason).toBe(reason)
        expect(result.left.message).not.toContain("SECRET")
      }
    }
  })

  it("Claude Code counts a record as logged in only with user:inference", () => {
    expect(Credential.isClaudeCodeLogin({ accessToken: "a", scopes: ["user:inference"] })).toBe(true)
    expect(Credential.isClaudeCodeLogin({ accessToken: "a", scopes: [] })).toBe(false)
    expect(Credential.isClaudeCodeLogin({ accessToken: "a" })).toBe(false)
  })

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
