/**
 * When may we call an endpoint again?
 *
 * State is kept per (account, endpoint): a 403 or 429 from the token endpoint
 * arms the refresh backoff and nothing else, and a usage-endpoint 429 never
 * delays a refresh. Permanent verdicts block calls until the credential the
 * endpoint consumes changes, tracked by its fingerprint, never the token.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Option from "effect/Option"
import * as C from "./Classification.js"
import type { Endpoint } from "./Endpoint.js"

type Classification = C.Classification

/** Tuning for one endpoint. @since 0.1.0 */
export interface Tuning {
  /** No call sooner than this after a failure, whatever the server says. */
  readonly floorMs: number
  /** First exponential step for failures without a usable Retry-After. */
  readonly baseMs: number
  /** Exponential steps stop growing here. */
  readonly maxMs: number
  /** 0..1: the share of each exponential step that is randomised. */
  readonly jitter: number
}

/** Tuning for every endpoint, so a usage failure and a refresh failure back off on their own scales. @since 0.1.0 */
export type Config = { readonly [E in Endpoint]: Tuning }

/**
 * Defaults: the usage endpoint is polled at most every ten minutes anyway, so
 * its floor is a minute and failures back off up to an hour.
 *
 * @since 0.1.0
 */
export const defaultConfig: Config = {
  token: { floorMs: 30_000, baseMs: 30_000, maxMs: 30 * 60_000, jitter: 0.5 },
  usage: { floorMs: 60_000, baseMs: 120_000, maxMs: 60 * 60_000, jitter: 0.5 },
  profile: { floorMs: 60_000, baseMs: 120_000, maxMs: 60 * 60_000, jitter: 0.5 },
  messages: { floorMs: 1_000, baseMs: 2_000, maxMs: 5 * 60_000, jitter: 0.5 }
}

/**
 * Verdicts that no wait can cure: calls stop until the credential changes.
 * Expired and invalid tokens belong here too — the same token will not come
 * back to life; a refresh brings a new fingerprint.
 *
 * @since 0.1.0
 */
export const blocksUntilCredentialChanges = (c: Classification): boolean => {
  switch (c._tag) {
    case "MissingScope":
    case "OrgPolicyDenied":
    case "TokenRevoked":
    case "TokenExpired":
    case "TokenInvalid":
    case "RefreshRejected":
    case "ClientRejected":
      return true
    default:
      return false
  }
}

/**
 * A verdict as the state file keeps it: {@link C.Classification}'s encoded
 * (plain JSON) form. It holds no token: verdicts never do.
 *
 * @since 0.2.0
 */
export const PersistedVerdict = Schema.encodedSchema(C.Classification)

/** The plain-JSON verdict read back from the state file. @since 0.2.0 */
export type PersistedVerdict = typeof PersistedVerdict.Type

const encodeVerdict = Schema.encodeSync(C.Classification)
const decodeVerdict = Schema.decodeUnknownOption(C.Classification)

/**
 * The persisted state of one (account, endpoint).
 *
 * @since 0.1.0
 */
export const Entry = Schema.Struct({
  /** Consecutive failures that armed a delay. */
  failures: Schema.NonNegativeInt,
  /** Epoch ms before which no call is made, `null` when not delayed. */
  until: Schema.NullOr(Schema.Number),
  /** Fingerprint of the credential a blocking verdict was given for. */
  blockedFingerprint: Schema.NullOr(Schema.String),
  /** The tag of the last failure, for reports. */
  verdict: Schema.NullOr(Schema.String),
  /**
   * The whole verdict that armed the delay or block, so that another process
   * can fail with it instead of calling again. Absent in files written before
   * 0.2.0.
   *
   * @since 0.2.0
   */
  failure: Schema.optionalWith(Schema.NullOr(PersistedVerdict), { exact: true })
})

/** The decoded form of {@link Entry}: one (account, endpoint)'s failures, delay and block. @since 0.1.0 */
export type Entry = typeof Entry.Type

/** The state of an endpoint that has not failed: no delay, no block. Recording `Ok` returns to it. @since 0.1.0 */
export const empty: Entry = { failures: 0, until: null, blockedFingerprint: null, verdict: null }

/**
 * May a call be made now?
 *
 * @since 0.1.0
 */
export type Decision =
  | { readonly _tag: "Allowed" }
  | {
      readonly _tag: "Delayed"
      readonly until: number
      readonly verdict: string | null
      /** The verdict that armed the delay, its `retryAfterMs` the wait left; `null` when the entry kept none. */
      readonly failure: C.Failure | null
    }
  | {
      readonly _tag: "Blocked"
      readonly verdict: string | null
      /** The verdict that blocked the credential; `null` when the entry kept none. */
      readonly failure: C.Failure | null
    }

// A stored verdict that no longer decodes (another version wrote it) is as good as none.
const storedFailure = (entry: Entry, patch: { readonly retryAfterMs?: number } = {}): C.Failure | null => {
  if (entry.failure === undefined || entry.failure === null) return null
  const decoded = decodeVerdict({ ...entry.failure, ...patch })
  return Option.isSome(decoded) && decoded.value._tag !== "Ok" ? decoded.value : null
}

/**
 * Decides for a credential with `fingerprint` at `now`. A blocking verdict
 * given for another fingerprint no longer applies: the credential changed.
 * A refusal carries the verdict that armed it, so a process that never saw
 * the failure can answer with it instead of calling again.
 *
 * @since 0.1.0
 */
export const decide = (entry: Entry, now: number, fingerprint: string | null): Decision => {
  if (entry.blockedFingerprint !== null) {
    if (entry.blockedFingerprint === fingerprint) {
      return { _tag: "Blocked", verdict: entry.verdict, failure: storedFailure(entry) }
    }
    return { _tag: "Allowed" }
  }
  if (entry.until !== null && now < entry.until) {
    const retryAfterMs = Math.max(0, Math.ceil(entry.until - now))
    return {
      _tag: "Delayed",
      until: entry.until,
      verdict: entry.verdict,
      failure: storedFailure(entry, { retryAfterMs })
    }
  }
  return { _tag: "Allowed" }
}

/**
 * The verdict to fail with when `decision` refuses a call to `endpoint`: the
 * one that armed it, or, for an entry written before verdicts were kept, one
 * rebuilt from its tag — a delay as the wait it is (a throttle unless the
 * tag says the server was failing), a block as a dead credential (an
 * organization policy or a revocation when the tag says so).
 *
 * @since 0.2.0
 */
export const refusal = (
  decision: Exclude<Decision, { readonly _tag: "Allowed" }>,
  endpoint: Endpoint,
  now: number
): C.Failure => {
  if (decision.failure !== null) return decision.failure
  const common = { endpoint, status: null, requestId: null }
  if (decision._tag === "Blocked") {
    const dead = { ...common, retryable: false, retryAfterMs: null }
    switch (decision.verdict) {
      case "OrgPolicyDenied":
        return new C.OrgPolicyDenied({ ...dead, action: "switch_account" })
      case "TokenRevoked":
        return new C.TokenRevoked({ ...dead, action: "reauthenticate" })
      default:
        return endpoint === "token"
          ? new C.RefreshRejected({ ...dead, action: "reauthenticate", reason: "other" })
          : new C.TokenInvalid({ ...dead, action: "reauthenticate" })
    }
  }
  const waiting = { ...common, retryable: true, retryAfterMs: Math.max(0, Math.ceil(decision.until - now)) }
  switch (decision.verdict) {
    case "Overloaded":
      return new C.Overloaded({ ...waiting, action: "backoff" })
    case "ServerError":
    case "Decode":
      return new C.ServerError({ ...waiting, action: "backoff" })
    case "Transport":
      return new C.Transport({ ...waiting, action: "backoff", reason: "other" })
    default:
      return new C.RateLimited({ ...waiting, action: "wait", limitKind: "throttle", resetsAt: null, claim: null })
  }
}

/**
 * The state after observing `c`. `random` is a number in [0, 1) used for
 * jitter. A usable Retry-After is honoured to the millisecond (but never below
 * the floor); a subscription cap waits for its reset.
 *
 * @since 0.1.0
 */
export const next = (
  entry: Entry,
  c: Classification,
  now: number,
  fingerprint: string | null,
  random: number,
  tuning: Tuning
): Entry => {
  if (c._tag === "Ok") return empty
  if (blocksUntilCredentialChanges(c)) {
    return {
      failures: entry.failures + 1,
      until: null,
      blockedFingerprint: fingerprint ?? "",
      verdict: c._tag,
      failure: encodeVerdict(c)
    }
  }
  const failures = entry.blockedFingerprint === null ? entry.failures + 1 : 1
  const floor = now + tuning.floorMs
  let until: number
  if (c.retryAfterMs !== null) {
    until = Math.max(floor, now + c.retryAfterMs)
  } else if (c._tag === "RateLimited" && c.resetsAt !== null && c.resetsAt > now) {
    until = Math.max(floor, c.resetsAt)
  } else {
    const step = Math.min(tuning.maxMs, tuning.baseMs * 2 ** Math.min(failures - 1, 30))
    const jitter = Math.min(1, Math.max(0, tuning.jitter))
    const delay = step * (1 - jitter) + step * jitter * Math.min(1, Math.max(0, random))
    until = Math.max(floor, Math.round(now + delay))
  }
  return { failures, until, blockedFingerprint: null, verdict: c._tag, failure: encodeVerdict(c) }
}

/** Which state a decision belongs to. @since 0.1.0 */
export interface Key {
  readonly account: string
  readonly endpoint: Endpoint
}

const keyString = (key: Key): string => `${key.endpoint} ${key.account}`

/**
 * All states, as persisted: `"<endpoint> <account>"` → entry.
 *
 * @since 0.1.0
 */
export const State = Schema.Record({ key: Schema.String, value: Entry })

/** The decoded form of {@link State}: what `snapshot` returns and `restore` takes back after a restart. @since 0.1.0 */
export type State = typeof State.Type

/**
 * The backoff service: one per process, shared by every caller.
 *
 * @since 0.1.0
 */
export class Backoff extends Context.Tag("@tollgate/core/Backoff")<
  Backoff,
  {
    readonly decide: (key: Key, fingerprint: string | null) => Effect.Effect<Decision>
    readonly record: (key: Key, fingerprint: string | null, c: Classification) => Effect.Effect<Entry>
    readonly entry: (key: Key) => Effect.Effect<Entry>
    readonly snapshot: Effect.Effect<State>
    readonly restore: (state: State) => Effect.Effect<void>
  }
>() {}

/**
 * Builds the service from a config; time comes from `Clock`, jitter from
 * `Random`, so tests drive both.
 *
 * @since 0.1.0
 */
export const make = (config: Config = defaultConfig, initial: State = {}) =>
  Effect.gen(function* () {
    const states = yield* Ref.make<ReadonlyMap<string, Entry>>(new Map(Object.entries(initial)))
    const entry = (key: Key) => Ref.get(states).pipe(Effect.map((m) => m.get(keyString(key)) ?? empty))
    return Backoff.of({
      entry,
      decide: (key, fingerprint) =>
        Effect.gen(function* () {
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          return decide(yield* entry(key), now, fingerprint)
        }),
      record: (key, fingerprint, c) =>
        Effect.gen(function* () {
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const random = yield* Random.next
          return yield* Ref.modify(states, (m) => {
            const updated = next(m.get(keyString(key)) ?? empty, c, now, fingerprint, random, config[key.endpoint])
            const copy = new Map(m)
            if (updated === empty) copy.delete(keyString(key))
            else copy.set(keyString(key), updated)
            return [updated, copy]
          })
        }),
      snapshot: Ref.get(states).pipe(Effect.map((m) => Object.fromEntries(m))),
      restore: (state) => Ref.set(states, new Map(Object.entries(state)))
    })
  })

/** The service with default tuning. @since 0.1.0 */
export const layer = (config: Config = defaultConfig): Layer.Layer<Backoff> => Layer.effect(Backoff, make(config))
