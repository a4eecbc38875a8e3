import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Backoff from "../src/Backoff.js"
import { classify } from "../src/Classify.js"

const T0 = Date.UTC(2026, 10, 25, 9)
const FP = "fp_aaaaaaaaaaaaaaaa"
const usage = { account: "acct", endpoint: "usage" } as const
const token = { account: "acct", endpoint: "token" } as const
const now = Effect.clockWith((clock) => clock.currentTimeMillis)

const rateLimit = (headers: Record<string, string>, at: number, endpoint: "usage" | "token" = "usage") =>
  classify({
    endpoint,
    status: 429,
    headers,
    body: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "Rate limited." } }),
    now: at
  })

const withBackoff = <A, E>(f: (b: Backoff.Backoff["Type"]) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(T0)
    return yield* f(yield* Backoff.make())
  })

describe("Backoff on TestClock", () => {
  it.effect("honours Retry-After to the millisecond", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        yield* b.record(usage, FP, rateLimit({ "retry-after": "3600" }, yield* now))
        yield* TestClock.adjust(3_600_000 - 1)
        expect((yield* b.decide(usage, FP))._tag).toBe("Delayed")
        yield* TestClock.adjust(1)
        expect((yield* b.decide(usage, FP))._tag).toBe("Allowed")
      })
    )
  )

  it.effect("an HTTP-date Retry-After is honoured relative to the clock", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* b.record(usage, FP, rateLimit({ "retry-after": new Date(at + 600_000).toUTCString() }, at))
        expect(yield* b.decide(usage, FP)).toEqual({ _tag: "Delayed", until: at + 600_000, verdict: "RateLimited" })
      })
    )
  )

  it.effect("a token-endpoint 403 arms the refresh backoff and leaves quota polling untouched", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        for (const body of [
          "error code: 1010",
          JSON.stringify({ type: "error", error: { type: "permission_error", message: "OAuth authentication is currently not allowed for this organization." } })
        ]) {
          const verdict = classify({ endpoint: "token", status: 403, body, now: yield* now })
          yield* b.record(token, FP, verdict)
          expect((yield* b.decide(token, FP))._tag).not.toBe("Allowed")
          expect(yield* b.decide(usage, FP)).toEqual({ _tag: "Allowed" })
          expect(yield* b.entry(usage)).toEqual(Backoff.empty)
        }
      })
    )
  )

  it.effect("a token-endpoint 429 never delays quota polling, and a usage 429 never delays a refresh", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        yield* b.record(token, FP, rateLimit({ "retry-after": "900" }, yield* now, "token"))
        expect(yield* b.decide(usage, FP)).toEqual({ _tag: "Allowed" })
        yield* b.record(usage, FP, rateLimit({ "retry-after": "900" }, yield* now))
        yield* TestClock.adjust(900_000)
        expect(yield* b.decide(token, FP)).toEqual({ _tag: "Allowed" })
      })
    )
  )

  it.effect("permanent verdicts stop calls until the token fingerprint changes", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        const missing = classify({
          endpoint: "usage",
          status: 403,
          body: JSON.stringify({ type: "error", error: { type: "permission_error", message: "OAuth token does not meet scope requirement user:profile" } }),
          now: yield* now
        })
        yield* b.record(usage, FP, missing)
        yield* TestClock.adjust(30 * 86_400_000)
        expect(yield* b.decide(usage, FP)).toEqual({ _tag: "Blocked", verdict: "MissingScope" })
        expect(yield* b.decide(usage, "fp_bbbbbbbbbbbbbbbb")).toEqual({ _tag: "Allowed" })
      })
    )
  )

  it.effect("retry-after: 0 repeated is spaced by the floor and grows, never faster", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        const floor = Backoff.defaultConfig.usage.floorMs
        let previousGap = 0
        for (let i = 0; i < 8; i++) {
          const at = yield* now
          const entry = yield* b.record(usage, FP, rateLimit({ "retry-after": "0" }, at))
          const gap = (entry.until ?? 0) - at
          expect(gap).toBeGreaterThanOrEqual(floor)
          expect(gap).toBeLessThanOrEqual(Backoff.defaultConfig.usage.maxMs)
          if (i < 3) expect(gap).toBeGreaterThanOrEqual(previousGap)
          previousGap = gap
          yield* TestClock.adjust(gap)
          expect((yield* b.decide(usage, FP))._tag).toBe("Allowed")
        }
      })
    )
  )

  it.effect("a subscription cap waits for its reset; success clears the state", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        const at = yield* now
        const cap = classify({
          endpoint: "messages",
          status: 429,
          headers: {
            "anthropic-ratelimit-unified-status": "rejected",
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-reset": String((at + 7_200_000) / 1000)
          },
          body: "{}",
          now: at
        })
        const key = { account: "acct", endpoint: "messages" } as const
        expect((yield* b.record(key, FP, cap)).until).toBe(at + 7_200_000)
        const ok = classify({ endpoint: "messages", status: 200, body: "{}", now: at })
        expect(yield* b.record(key, FP, ok)).toEqual(Backoff.empty)
      })
    )
  )

  it.effect("state survives a snapshot and restore (what the daemon persists)", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        yield* b.record(usage, FP, rateLimit({ "retry-after": "120" }, yield* now))
        const saved = JSON.parse(JSON.stringify(yield* b.snapshot))
        const restored = yield* Backoff.make()
        yield* restored.restore(Schema.decodeUnknownSync(Backoff.State)(saved))
        expect((yield* restored.decide(usage, FP))._tag).toBe("Delayed")
      })
    )
  )
})
