import { describe, expect, it } from "@effect/vitest"
import { classify } from "../src/Classify.js"
import * as RetryAfter from "../src/RetryAfter.js"
import * as Scopes from "../src/Scopes.js"

const NOW = Date.UTC(2026, 10, 25, 12)
const rateLimited = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "Rate limited." } })

describe("endpoint is part of the verdict", () => {
  it("a token-endpoint 429 is a refresh throttle, never a subscription cap", () => {
    const verdict = classify({
      endpoint: "token",
      status: 429,
      headers: { "anthropic-ratelimit-unified-status": "rejected", "retry-after": "10" },
      body: rateLimited,
      now: NOW
    })
    expect(verdict._tag).toBe("RateLimited")
    expect(verdict.endpoint).toBe("token")
    expect(verdict._tag === "RateLimited" && verdict.limitKind).toBe("throttle")
    expect(verdict.message).toMatch(/refresh/)
  })

  it("a usage 429 with a live token is a rate limit; with a stale one it is an expiry", () => {
    const live = classify({
      endpoint: "usage",
      status: 429,
      body: rateLimited,
      credential: { expiresAt: NOW + 1 },
      now: NOW
    })
    const stale = classify({
      endpoint: "usage",
      status: 429,
      body: rateLimited,
      credential: { expiresAt: NOW },
      now: NOW
    })
    expect(live._tag).toBe("RateLimited")
    expect(stale._tag).toBe("TokenExpired")
  })

  it("a 401 on a stale token is an expiry whatever its words", () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "authentication_error", message: "Invalid bearer token" }
    })
    expect(
      classify({ endpoint: "messages", status: 401, body, credential: { expiresAt: NOW - 1 }, now: NOW })._tag
    ).toBe("TokenExpired")
    expect(classify({ endpoint: "messages", status: 401, body, now: NOW })._tag).toBe("TokenInvalid")
  })

  it("the scope 403 and the org-policy 403 are different verdicts with different actions", () => {
    const scope = classify({
      endpoint: "usage",
      status: 403,
      body: JSON.stringify({
        type: "error",
        error: { type: "permission_error", message: "OAuth token does not meet scope requirement user:profile" }
      }),
      now: NOW
    })
    const org = classify({
      endpoint: "usage",
      status: 403,
      body: JSON.stringify({
        type: "error",
        error: {
          type: "permission_error",
          message: "OAuth authentication is currently not allowed for this organization."
        }
      }),
      now: NOW
    })
    expect([scope._tag, scope.action]).toEqual(["MissingScope", "skip_endpoint"])
    expect([org._tag, org.action]).toEqual(["OrgPolicyDenied", "switch_account"])
  })

  it("transport failures carry their reason", () => {
    const verdict = classify({ endpoint: "profile", status: null, transportError: "timeout", now: NOW })
    expect(verdict._tag === "Transport" && verdict.reason).toBe("timeout")
    expect(verdict.retryable).toBe(true)
  })

  it("messages never contain a token, even when the server echoes one", () => {
    const token = "sk-ant-oat01-SECRETSECRETSECRET"
    for (const status of [400, 401, 403, 429, 500]) {
      const body = JSON.stringify({
        type: "error",
        error: { type: "invalid_request_error", message: `bad token ${token}` }
      })
      expect(classify({ endpoint: "messages", status, body, now: NOW }).message).not.toContain("SECRET")
    }
  })
})

describe("a refused request keeps the upstream's words", () => {
  const refused = (message: string, status = 400) =>
    classify({
      endpoint: "messages",
      status,
      body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message } }),
      now: NOW
    })

  it("a context overflow says so in the message (how opencode knows to compact)", () => {
    const verdict = refused("prompt is too long: 210345 tokens > 200000 maximum")
    expect(verdict._tag).toBe("BadRequest")
    expect(verdict.action).toBe("fix_client")
    expect(verdict.message).toContain("prompt is too long: 210345 tokens > 200000 maximum")
    expect(verdict.message).toContain("(400 invalid_request_error")
  })

  it("the same inside a 200 stream's error event", () => {
    const block =
      'event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 5 tokens > 4 maximum"}}\n\n'
    const verdict = classify({
      endpoint: "messages",
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: block,
      now: NOW
    })
    expect(verdict._tag).toBe("BadRequest")
    expect(verdict.message).toContain("prompt is too long: 5 tokens > 4 maximum")
  })

  it("is capped at 300 characters, whitespace folded, credentials redacted", () => {
    const long = refused(`x ${"word ".repeat(200)}`)
    expect(long._tag === "BadRequest" && long.detail!.length).toBe(300)
    const echoed = refused(`header was Bearer abc.def and key sk-ant-api03-AAAA-BBBB and ${"Z".repeat(64)}\n\tend`)
    expect(echoed.message).not.toMatch(/abc\.def|sk-ant|ZZZZ/)
    expect(echoed.message).toContain("[redacted]")
    expect(echoed.message).toContain(" end);")
  })

  it("no upstream words: the message is as before", () => {
    const verdict = classify({ endpoint: "messages", status: 400, body: "", now: NOW })
    expect(verdict.message).toBe("The messages endpoint refused the request (400); retrying it unchanged cannot help.")
  })
})

describe("Retry-After policy", () => {
  it("reads seconds, HTTP-dates and retry-after-ms as integer milliseconds", () => {
    expect(RetryAfter.fromHeaders({ "retry-after": "1.5" }, NOW)).toBe(1500)
    expect(RetryAfter.fromHeaders({ "retry-after": new Date(NOW + 90_000).toUTCString() }, NOW)).toBe(90_000)
    expect(RetryAfter.fromHeaders({ "retry-after-ms": "250.2" }, NOW)).toBe(251)
  })
  it("0, negative, garbage and NaN-ish values count as absent; huge values are capped", () => {
    for (const v of ["0", "-3", "", "NaN", "Infinity", "1e400", "soon", "12abc", "Thu, 99 Foo 0000 99:99:99 GMT"]) {
      expect(RetryAfter.fromHeaders({ "retry-after": v }, NOW)).toBeNull()
    }
    expect(RetryAfter.fromHeaders({ "retry-after": "99999999999" }, NOW)).toBe(RetryAfter.defaultPolicy.maxMs)
    expect(RetryAfter.fromHeaders({ "retry-after": "7200" }, NOW, { maxMs: 60_000 })).toBe(60_000)
  })
})

describe("scopes", () => {
  it("absent is unknown, [] is none", () => {
    expect(Scopes.check(Scopes.fromStored(undefined), "usage")._tag).toBe("Unknown")
    expect(Scopes.check(Scopes.fromStored([]), "usage")).toEqual({ _tag: "Missing", scope: "user:profile" })
    expect(Scopes.check(Scopes.fromStored(["user:inference"]), "inference")._tag).toBe("Granted")
    expect(Scopes.check(Scopes.fromStored(["user:profile"]), "remote_control")).toEqual({
      _tag: "Missing",
      scope: "user:sessions:claude_code"
    })
  })
  it("parses the response scope field and drops org:create_api_key for refresh", () => {
    expect(Scopes.parse("  user:profile user:inference  user:profile ")).toEqual(["user:profile", "user:inference"])
    expect(Scopes.forRefresh(Scopes.login)).not.toContain("org:create_api_key")
  })
})

describe("hostile bodies", () => {
  it("a deeply nested upstream body gets a verdict, never a stack overflow", () => {
    for (const depth of [6_000, 32_000, 100_000]) {
      const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`
      const inEnvelope = `{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited.","details":${arrays}}}`
      for (const body of [arrays, inEnvelope, `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`]) {
        for (const endpoint of ["messages", "usage", "token", "profile"] as const) {
          for (const status of [200, 400, 401, 403, 429, 500]) {
            const verdict = classify({
              endpoint,
              status,
              headers: { "content-type": "application/json" },
              body,
              now: NOW
            })
            expect(typeof verdict._tag).toBe("string")
            expect(verdict.message.length).toBeLessThan(1000)
          }
        }
        // As bytes too, the way the HTTP path hands bodies over.
        expect(
          classify({ endpoint: "messages", status: 429, body: new TextEncoder().encode(body), now: NOW })._tag
        ).toBe("RateLimited")
      }
    }
  })
})

describe("answers longer than the inspected prefix", () => {
  const long = JSON.stringify({
    type: "message",
    role: "assistant",
    content: [{ type: "text", text: "word ".repeat(40_000) }]
  })

  it("a 200 Messages answer of 200 KB is Ok, as text and as bytes (a long answer is not a broken one)", () => {
    expect(long.length).toBeGreaterThan(150_000)
    for (const body of [long, new TextEncoder().encode(long)]) {
      const verdict = classify({
        endpoint: "messages",
        status: 200,
        headers: { "content-type": "application/json" },
        body,
        now: 0
      })
      expect(verdict._tag).toBe("Ok")
    }
  })

  it("a long answer from an endpoint whose answer tollgate reads itself (token, usage, profile) stays Decode", () => {
    for (const endpoint of ["token", "usage", "profile"] as const) {
      const verdict = classify({
        endpoint,
        status: 200,
        headers: { "content-type": "application/json" },
        body: long,
        now: 0
      })
      expect(verdict._tag).toBe("Decode")
    }
  })

  it("a 200 body of 200 KB that does not open as JSON is still Decode", () => {
    const verdict = classify({
      endpoint: "messages",
      status: 200,
      headers: { "content-type": "application/json" },
      body: `<html>${"x".repeat(200_000)}`,
      now: 0
    })
    expect(verdict._tag).toBe("Decode")
  })

  it("a long error answer keeps the verdict its status gives", () => {
    const body = JSON.stringify({ type: "error", error: { type: "api_error", message: "x".repeat(100_000) } })
    expect(
      classify({ endpoint: "messages", status: 500, headers: { "content-type": "application/json" }, body, now: 0 })
        ._tag
    ).toBe("ServerError")
  })
})
