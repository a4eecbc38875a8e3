/**
 * Reads quota from the usage endpoint without ever hammering it: never with a
 * token known to lack `user:profile`, never with a token past its `expiresAt`,
 * never sooner than the poll interval, and never while the backoff says wait.
 * It only polls when asked (`poll`): an idle caller costs nothing.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Backoff from "./Backoff.js"
import * as C from "./Classification.js"
import type * as Credential from "./Credential.js"
import { OAuthClient } from "./OAuthClient.js"
import { refusal } from "./internal/refusal.js"
import type * as Usage from "./Usage.js"

/** The login to poll with. @since 0.1.0 */
export interface Login {
  readonly accessToken: Redacted.Redacted<string>
  readonly snapshot: Credential.Snapshot
}

/** Which login to poll for, how often, and with what jitter. @since 0.1.0 */
export interface Options<E, R> {
  /** Names the account in backoff state and reports. */
  readonly account: string
  /** The current login; `null` when there is none. */
  readonly load: Effect.Effect<Login | null, E, R>
  /** Minimum time between successful polls. Default 10 minutes. */
  readonly intervalMs?: number | undefined
  /** Up to this much is added at random to each interval. Default 60 s. */
  readonly jitterMs?: number | undefined
}

/**
 * What stops or delays polling: a classification's tag, or `NoLogin` when
 * there is no login to poll with.
 *
 * @since 0.2.0
 */
export type Verdict = C.Tag | "NoLogin"

/**
 * What the poller knows. `usage` is the last good report, cleared when a
 * verdict says its numbers can no longer be trusted.
 *
 * @since 0.1.0
 */
export interface View {
  readonly account: string
  /** The verdict that stops or delays polling; `null` when all is well. */
  readonly verdict: Verdict | null
  readonly message: string | null
  readonly usage: Usage.Report | null
  readonly fetchedAt: number | null
  /** The earliest next call; `null` when calls stop until the login changes. */
  readonly nextCallAt: number | null
  readonly fingerprint: string | null
}

/** Ten minutes between successful polls: quota moves slowly and the usage endpoint throttles hard. @since 0.1.0 */
export const DEFAULT_INTERVAL_MS = 10 * 60_000

/**
 * Per verdict, whether cached numbers are dropped: only when the login itself
 * was refused, since whatever we showed may belong to a login that no longer
 * counts. A refused client, an edge block or an outage says nothing about the
 * login, so its numbers stay. Every tag is listed: a new verdict does not
 * compile until it is decided here.
 */
const INVALIDATES_CACHE: { readonly [T in C.Tag]: boolean } = {
  Ok: false,
  MissingScope: true,
  TokenExpired: true,
  TokenInvalid: true,
  TokenRevoked: true,
  OrgPolicyDenied: true,
  RefreshRejected: true,
  RateLimited: false,
  ExtraUsageRequired: false,
  ClientRejected: false,
  EdgeBlocked: false,
  Overloaded: false,
  ServerError: false,
  NotFound: false,
  BadRequest: false,
  Transport: false,
  Decode: false
}

/**
 * Whether a verdict drops the cached numbers: the login was refused (missing
 * scope, expired, invalid or revoked token, org policy, refused refresh).
 *
 * @since 0.1.0
 */
export const invalidatesCache = (c: C.Classification): boolean => INVALIDATES_CACHE[c._tag]

const initial = (account: string): View => ({
  account,
  verdict: null,
  message: null,
  usage: null,
  fetchedAt: null,
  nextCallAt: 0,
  fingerprint: null
})

/**
 * One account's poller: `poll` asks upstream only when allowed, `view` is the last
 * numbers and verdict without a call.
 *
 * @since 0.1.0
 */
export interface UsagePoller<E, R> {
  /** Calls the usage endpoint if, and only if, the policy allows it now. */
  readonly poll: Effect.Effect<View, E, R | OAuthClient | Backoff.Backoff>
  readonly view: Effect.Effect<View>
  /** Starts from a persisted view (numbers show at once after a restart). */
  readonly restore: (view: View) => Effect.Effect<void>
}

/**
 * Builds a poller for one account. It does nothing until `poll` is called, so an
 * idle caller costs nothing.
 *
 * @since 0.1.0
 */
export const make = <E, R>(options: Options<E, R>): Effect.Effect<UsagePoller<E, R>> =>
  Effect.gen(function* () {
    const state = yield* Ref.make(initial(options.account))
    const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS
    const jitter = options.jitterMs ?? 60_000
    const key: Backoff.Key = { account: options.account, endpoint: "usage" }

    const poll = Effect.gen(function* () {
      const client = yield* OAuthClient
      const backoff = yield* Backoff.Backoff
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      const login = yield* options.load
      if (!login) {
        return yield* Ref.updateAndGet(state, (v) => ({
          ...initial(v.account),
          verdict: "NoLogin" as const,
          message: "No Claude login found."
        }))
      }
      const fp = login.snapshot.fingerprint
      // A new token is a new login (or an account switch): start fresh.
      let view = yield* Ref.updateAndGet(state, (v) =>
        v.fingerprint === fp ? v : { ...initial(v.account), fingerprint: fp }
      )

      const decision = yield* backoff.decide(key, fp)
      const refused = refusal("usage", "usage", now, login.snapshot)
      if (refused) {
        // Recorded once per login: the verdict holds until the token changes.
        if (decision._tag !== "Blocked") yield* backoff.record(key, fp, refused)
        return yield* Ref.updateAndGet(state, (v) => failed(v, refused, null))
      }
      if (decision._tag === "Blocked") return { ...view, nextCallAt: null }
      if (decision._tag === "Delayed") return { ...view, nextCallAt: decision.until }
      if (view.nextCallAt !== null && now < view.nextCallAt) return view

      const outcome = yield* client
        .usage({ accessToken: login.accessToken, credential: login.snapshot })
        .pipe(Effect.either)
      if (outcome._tag === "Right") {
        const extra = Math.round((yield* Random.next) * jitter)
        yield* backoff.record(key, fp, okAt())
        view = {
          ...view,
          verdict: null,
          message: null,
          usage: outcome.right,
          fetchedAt: now,
          nextCallAt: now + interval + extra
        }
        yield* Ref.set(state, view)
        return view
      }
      const entry = yield* backoff.record(key, fp, outcome.left)
      return yield* Ref.updateAndGet(state, (v) =>
        failed(v, outcome.left, entry.blockedFingerprint !== null ? null : entry.until)
      )
    })

    return {
      poll,
      view: Ref.get(state),
      restore: (view) => Ref.set(state, { ...view, account: options.account })
    }
  })

const failed = (view: View, c: C.Classification, nextCallAt: number | null): View => ({
  ...view,
  verdict: c._tag,
  message: c.message,
  usage: invalidatesCache(c) ? null : view.usage,
  fetchedAt: invalidatesCache(c) ? null : view.fetchedAt,
  nextCallAt
})

const okAt = (): C.Ok =>
  new C.Ok({ endpoint: "usage", status: 200, action: "none", retryable: false, retryAfterMs: null, requestId: null })
