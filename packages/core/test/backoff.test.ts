import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Backoff from "../src/Backoff.js"
import { Classification } from "../src/Classification.js"
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
        expect(yield* b.decide(usage, FP)).toMatchObject({
          _tag: "Delayed",
          until: at + 600_000,
          verdict: "RateLimited"
        })
      })
    )
  )

  it.effect("a token-endpoint 403 arms the refresh backoff and leaves quota polling untouched", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        for (const body of [
          "error code: 1010",
          JSON.stringify({
            type: "error",
            error: {
              type: "permission_error",
              message: "OAuth authentication is currently not allowed for this organization."
            }
          })
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
          body: JSON.stringify({
            type: "error",
            error: { type: "permission_error", message: "OAuth token does not meet scope requirement user:profile" }
          }),
          now: yield* now
        })
        yield* b.record(usage, FP, missing)
        yield* TestClock.adjust(30 * 86_400_000)
        expect(yield* b.decide(usage, FP)).toEqual({ _tag: "Blocked", verdict: "MissingScope", failure: missing })
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

  it.effect("a fresh process restoring the state fails with the verdict that armed the delay, its wait shortened", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        const at = yield* now
        const refused = rateLimit({ "retry-after": "3600" }, at, "token")
        expect(refused._tag).toBe("RateLimited")
        yield* b.record(token, FP, refused)
        // What another process reads: the JSON the state file holds.
        const saved = JSON.parse(JSON.stringify(yield* b.snapshot)) as unknown
        yield* TestClock.adjust(600_000)
        const fresh = yield* Backoff.make(Backoff.defaultConfig, Schema.decodeUnknownSync(Backoff.State)(saved))
        const decision = yield* fresh.decide(token, FP)
        if (decision._tag !== "Delayed") throw new Error(`expected Delayed, got ${decision._tag}`)
        expect(decision.until).toBe(at + 3_600_000)
        expect(decision.failure).toEqual(
          Schema.decodeUnknownSync(Classification)({
            ...Schema.encodeSync(Classification)(refused),
            retryAfterMs: 3_000_000
          })
        )
        expect(decision.failure?.message).toBe(refused.message)
        expect(decision.failure?.message).toContain("throttling refreshes")
        expect(Backoff.refusal(decision, "token", yield* now)).toBe(decision.failure)
      })
    )
  )

  it.effect("a blocking verdict comes back whole from the persisted state, and only for its credential", () =>
    withBackoff((b) =>
      Effect.gen(function* () {
        const rejected = classify({
          endpoint: "token",
          status: 400,
          body: JSON.stringify({ error: "invalid_grant", error_description: "Refresh token not found or invalid" }),
          now: yield* now
        })
        expect(rejected._tag).toBe("RefreshRejected")
        yield* b.record(token, FP, rejected)
        const saved = Schema.decodeUnknownSync(Backoff.State)(JSON.parse(JSON.stringify(yield* b.snapshot)))
        const fresh = yield* Backoff.make(Backoff.defaultConfig, saved)
        expect(yield* fresh.decide(token, FP)).toEqual({
          _tag: "Blocked",
          verdict: "RefreshRejected",
          failure: rejected
        })
        expect(yield* fresh.decide(token, "fp_bbbbbbbbbbbbbbbb")).toEqual({ _tag: "Allowed" })
      })
    )
  )

  it("a state file written before verdicts were kept still decodes; the refusal is rebuilt from the tag", () => {
    const old = {
      "token acct": { failures: 1, until: T0 + 3_600_000, blockedFingerprint: null, verdict: "RateLimited" }
    }
    const state = Schema.decodeUnknownSync(Backoff.State)(old)
    const delayed = Backoff.decide(state["token acct"]!, T0, FP)
    expect(delayed).toEqual({ _tag: "Delayed", until: T0 + 3_600_000, verdict: "RateLimited", failure: null })
    if (delayed._tag !== "Delayed") throw new Error("expected Delayed")
    const rebuilt = Backoff.refusal(delayed, "token", T0 + 1_000)
    expect(rebuilt).toMatchObject({ _tag: "RateLimited", endpoint: "token", action: "wait", retryAfterMs: 3_599_000 })
    expect(rebuilt.message).toContain("throttling refreshes")

    const blocked = Backoff.decide(
      { failures: 1, until: null, blockedFingerprint: FP, verdict: "RefreshRejected" },
      T0,
      FP
    )
    if (blocked._tag !== "Blocked") throw new Error("expected Blocked")
    expect(Backoff.refusal(blocked, "token", T0)).toMatchObject({ _tag: "RefreshRejected", action: "reauthenticate" })
    const org = Backoff.decide({ failures: 1, until: null, blockedFingerprint: FP, verdict: "OrgPolicyDenied" }, T0, FP)
    if (org._tag !== "Blocked") throw new Error("expected Blocked")
    expect(Backoff.refusal(org, "token", T0)).toMatchObject({ _tag: "OrgPolicyDenied", action: "switch_account" })
  })

  it("a stored verdict another version wrote that no longer decodes counts as none", () => {
    const entry = {
      failures: 1,
      until: T0 + 60_000,
      blockedFingerprint: null,
      verdict: "RateLimited",
      failure: { _tag: "SomethingNew", endpoint: "token" }
    }
    // The entry's schema refuses it, so a strict reader drops the entry; a lenient one keeps the delay.
    expect(Schema.is(Backoff.Entry)(entry)).toBe(false)
    const decision = Backoff.decide(entry as unknown as Backoff.Entry, T0, FP)
    expect(decision).toMatchObject({ _tag: "Delayed", failure: null })
  })
})
