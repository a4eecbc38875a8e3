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

  it("names where a login is malformed, by key names only", () => {
    const result = Credential.parseDocument('{"claudeAiOauth":{"accessToken":"sk-ant-oat01-SECRET","scopes":"SECRET"}}')
    expect(result._tag === "Left" && [result.left.reason, result.left.at]).toEqual([
      "malformed_login",
      "claudeAiOauth.scopes"
    ])
    expect(result._tag === "Left" && result.left.message).toContain("at claudeAiOauth.scopes")
    expect(result._tag === "Left" && result.left.message).not.toContain("SECRET")
  })

  it("accepts a leading UTF-8 byte order mark, and only a leading one", () => {
    const login = { claudeAiOauth: { accessToken: "a", scopes: ["user:inference"] } }
    const result = Credential.parseDocument(`\uFEFF${JSON.stringify(login, null, 2)}\n`)
    expect(result._tag === "Right" && result.right.claudeAiOauth?.accessToken).toBe("a")
    const inside = Credential.parseDocument(` \uFEFF${JSON.stringify(login)}`)
    expect(inside._tag === "Left" && inside.left.reason).toBe("not_json")
  })

  it("refuses a document nested too deep to write back, at any depth, without overflowing the stack", () => {
    for (const depth of [Credential.MAX_DOCUMENT_DEPTH, 6_000, 100_000]) {
      // The depth sits in a key tollgate does not read, beside a valid login: the document parses,
      // but serializing it back would overflow the stack after the refresh token was spent.
      const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`
      const text = `\uFEFF{"claudeAiOauth":{"accessToken":"sk-ant-oat01-SECRET"},"foreign":${deep}}`
      const result = Credential.parseDocument(text)
      expect(result._tag === "Left" && result.left.reason).toBe("too_deep")
      expect(result._tag === "Left" && result.left.message).toBe(
        `The credentials file nests deeper than ${Credential.MAX_DOCUMENT_DEPTH} levels; it is not read, because it could not be written back safely.`
      )
    }
    // The cap counts the document itself as the first level.
    const ok = `{"foreign":${"[".repeat(Credential.MAX_DOCUMENT_DEPTH - 1)}${"]".repeat(Credential.MAX_DOCUMENT_DEPTH - 1)}}`
    expect(Credential.parseDocument(ok)._tag).toBe("Right")
    // Brackets inside strings are text, not nesting.
    expect(Credential.parseDocument(JSON.stringify({ note: "[".repeat(10_000), q: '\\"[[[' }))._tag).toBe("Right")
  })

  it("refuses a document over the size cap, counted in UTF-8 bytes", () => {
    const filler = (n: number) => JSON.stringify({ claudeAiOauth: { accessToken: "a" }, pad: "é".repeat(n) })
    const fits = filler((Credential.MAX_DOCUMENT_BYTES - 64) / 2)
    expect(Credential.parseDocument(fits)._tag).toBe("Right")
    const over = filler(Credential.MAX_DOCUMENT_BYTES / 2)
    expect(over.length).toBeLessThan(Credential.MAX_DOCUMENT_BYTES)
    const result = Credential.parseDocument(over)
    expect(result._tag === "Left" && result.left.reason).toBe("too_large")
    expect(result._tag === "Left" && result.left.message).toMatch(/larger than 1 MiB/)
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
