import { describe, expect, it } from "@effect/vitest"
import { classify } from "../src/Classify.js"
import * as UsagePoller from "../src/UsagePoller.js"

const NOW = Date.UTC(2026, 11, 4, 12)
const error = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message } })
const usage = (status: number, body: string, headers: Record<string, string> = {}) =>
  classify({ endpoint: "usage", status, headers, body, credential: { expiresAt: NOW + 3_600_000 }, now: NOW })

describe("UsagePoller.invalidatesCache: by verdict, not by status code", () => {
  it.each([
    ["a refused token (401)", usage(401, error("authentication_error", "Invalid bearer token")), "TokenInvalid"],
    ["a revoked token", usage(401, error("authentication_error", "OAuth token has been revoked")), "TokenRevoked"],
    [
      "a missing user:profile scope (403)",
      usage(403, error("permission_error", "OAuth token does not meet scope requirement user:profile")),
      "MissingScope"
    ]
  ])("%s drops the numbers", (_, verdict, tag) => {
    expect(verdict._tag).toBe(tag)
    expect(UsagePoller.invalidatesCache(verdict)).toBe(true)
  })

  it.each([
    [
      "a Cloudflare block (403)",
      usage(403, "<html><title>Attention Required! | Cloudflare</title></html>", {
        "cf-mitigated": "challenge",
        "content-type": "text/html"
      }),
      "EdgeBlocked"
    ],
    ["a rate limit (429)", usage(429, error("rate_limit_error", "Rate limited.")), "RateLimited"],
    ["an outage (500)", usage(500, error("api_error", "Internal server error")), "ServerError"]
  ])("%s keeps them: it says nothing about the login", (_, verdict, tag) => {
    expect(verdict._tag).toBe(tag)
    expect(UsagePoller.invalidatesCache(verdict)).toBe(false)
  })
})
