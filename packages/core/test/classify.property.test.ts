import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import * as Classification from "../src/Classification.js"
import { classify, type Input } from "../src/Classify.js"
import * as Endpoint from "../src/Endpoint.js"

const endpoint = FastCheck.constantFrom(...Endpoint.all)
const status = FastCheck.oneof(
  FastCheck.constant(null),
  FastCheck.integer({ min: -1000, max: 1000 }),
  FastCheck.constantFrom(200, 400, 401, 403, 404, 429, 500, 529),
  FastCheck.double()
)
const headerName = FastCheck.oneof(
  FastCheck.string(),
  FastCheck.constantFrom(
    "retry-after",
    "Retry-After",
    "retry-after-ms",
    "content-type",
    "anthropic-ratelimit-unified-status",
    "anthropic-ratelimit-unified-reset",
    "anthropic-ratelimit-unified-representative-claim",
    "anthropic-ratelimit-unified-5h-reset",
    "cf-mitigated"
  )
)
const headerValue = FastCheck.oneof(
  FastCheck.string(),
  FastCheck.constantFrom("0", "-1", "1e309", "NaN", "text/event-stream", "rejected", "five_hour", "challenge"),
  FastCheck.integer().map(String),
  FastCheck.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? "Invalid" : d.toUTCString()))
)
const fragments = FastCheck.constantFrom(
  '{"type":"error","error":{"type":"rate_limit_error","message":"x"}}',
  '{"error":"invalid_grant"}',
  '{"error":{"type":',
  "event: error\ndata: ",
  "error code: 1010",
  "<title>Just a moment...</title>",
  "does not meet scope requirement ",
  "extra usage",
  "\u0000\uffff\ud800"
)
const body = FastCheck.oneof(
  FastCheck.constant(undefined),
  FastCheck.string(),
  FastCheck.uint8Array({ maxLength: 4096 }),
  FastCheck.array(FastCheck.oneof(fragments, FastCheck.string()), { maxLength: 8 }).map((xs) => xs.join("")),
  FastCheck.json()
)
const credential = FastCheck.option(
  FastCheck.record(
    {
      scopes: FastCheck.option(FastCheck.array(FastCheck.string()), { nil: undefined }),
      expiresAt: FastCheck.option(FastCheck.oneof(FastCheck.double(), FastCheck.integer()), { nil: undefined })
    },
    { requiredKeys: [] }
  ),
  { nil: undefined }
)
const input: FastCheck.Arbitrary<Input> = FastCheck.record({
  endpoint,
  status,
  transportError: FastCheck.constantFrom(undefined, "connect", "reset", "timeout", "aborted", "other"),
  headers: FastCheck.dictionary(headerName, headerValue, { maxKeys: 6 }),
  body,
  credential,
  now: FastCheck.oneof(FastCheck.integer({ min: 0, max: 4102444800000 }), FastCheck.double())
}) as FastCheck.Arbitrary<Input>

describe("the classifier is total", () => {
  it("never throws and always yields a known tag with a message and integer times", () => {
    FastCheck.assert(
      FastCheck.property(input, (i) => {
        const verdict = classify(i)
        expect(Classification.isClassification(verdict)).toBe(true)
        expect(typeof verdict.message).toBe("string")
        expect(verdict.message.length).toBeGreaterThan(0)
        expect(verdict.endpoint).toBe(i.endpoint)
        if (verdict.retryAfterMs !== null) expect(Number.isSafeInteger(verdict.retryAfterMs)).toBe(true)
        if (verdict._tag === "RateLimited" && verdict.resetsAt !== null) {
          expect(Number.isSafeInteger(verdict.resetsAt)).toBe(true)
        }
        expect(() => JSON.stringify(Classification.toJson(verdict))).not.toThrow()
      }),
      { numRuns: 3000 }
    )
  })

  it("handles multi-megabyte bodies, text and binary, in bounded time", () => {
    const big = "x".repeat(8 * 1024 * 1024)
    const bytes = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 7919) & 0xff)
    for (const b of [big, `{"type":"error","error":{"type":"overloaded_error","message":"${big}"}}`, bytes]) {
      for (const s of [200, 403, 429, 529]) {
        const verdict = classify({ endpoint: "messages", status: s, headers: {}, body: b, now: 0 })
        expect(Classification.isClassification(verdict)).toBe(true)
      }
    }
  })
})
