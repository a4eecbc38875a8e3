/**
 * What the daemon knows about quota, cheapest source first:
 *
 * 1. the `rate_limits` Claude Code pipes to the statusline (free, fresh);
 * 2. unified rate-limit headers other tollgate adapters saw (free);
 * 3. the usage endpoint — through core's UsagePoller, so never with a token
 *    lacking `user:profile`, never with a stale token, never inside a backoff —
 *    only when 1 and 2 have been silent for a while, or hourly for what they
 *    cannot give (per-model limits, extra usage).
 *
 * Polls happen only when someone asks: an idle daemon has no timers at all.
 *
 * @since 0.1.0
 */
import { Backoff, type OAuthClient, UnifiedHeaders, UsagePoller } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Protocol from "./Protocol.js"

/** How {@link make} reads the login, when it polls the usage endpoint, and the state it starts from. @since 0.1.0 */
export interface Options<R> {
  /** The current login (read-only); re-read on every ask. */
  readonly login: Effect.Effect<UsagePoller.Login | null, never, R>
  /** Poll the usage endpoint when the free sources have been silent this long. Default 10 min. */
  readonly silentAfterMs?: number | undefined
  /** Even with fresh free numbers, poll this often for what they lack. Default 60 min. */
  readonly extrasEveryMs?: number | undefined
  /** How long an ask waits for a poll it started before answering with what it has. Default: no wait. */
  readonly waitForPollMs?: number | undefined
  readonly initial?: Persisted | undefined
}

// A restored state file is input too: its percentages are clamped like every other source's.
const WindowSchema = Schema.Struct({
  usedPercent: Schema.Number.pipe(Schema.finite(), Schema.clamp(0, 100)),
  resetsAt: Schema.NullOr(Schema.Number)
})
const WindowsSchema = Schema.Struct({
  fiveHour: Schema.optional(WindowSchema),
  sevenDay: Schema.optional(WindowSchema)
})

/** Free numbers, with the login they were seen under. @since 0.1.0 */
export const Snapshot = Schema.Struct({
  windows: WindowsSchema,
  source: Schema.Literal("statusline", "headers"),
  observedAt: Schema.Number,
  fingerprint: Schema.NullOr(Schema.String)
})

/** A decoded {@link Snapshot}. @since 0.1.0 */
export type Snapshot = typeof Snapshot.Type

/**
 * What survives a restart: the last good numbers and the backoff, so a
 * restarted daemon shows numbers at once and does not forget a Retry-After.
 *
 * @since 0.1.0
 */
export const Persisted = Schema.Struct({
  version: Schema.Literal(1),
  free: Schema.NullOr(Snapshot),
  poller: Schema.NullOr(Schema.Unknown),
  backoff: Backoff.State
})

/** A decoded {@link Persisted} state, as `StateFile` saves and loads it. @since 0.1.0 */
export type Persisted = typeof Persisted.Type

/**
 * The daemon's quota state: answers status requests, takes headers other
 * adapters saw, and hands out the state to persist. Made by {@link make}.
 *
 * @since 0.1.0
 */
export interface QuotaService<R> {
  /** A client asks (the statusline forwards Claude Code's `rate_limits` when it has them). */
  readonly status: (rateLimits?: Protocol.Windows) => Effect.Effect<Protocol.Quota, never, R | OAuthClient.OAuthClient>
  /** Unified headers another adapter observed. */
  readonly ingestHeaders: (headers: Readonly<Record<string, string>>, at?: number) => Effect.Effect<void, never, R>
  /** The state to persist; `changed` tells whether it differs from the last call. */
  readonly persisted: Effect.Effect<{ readonly state: Persisted; readonly changed: boolean }>
}

const MINUTE = 60_000

// Core reads the headers (0..1, clamped); the daemon speaks percent to one decimal.
const percent = (window: UnifiedHeaders.Window | null): Protocol.Window | null => {
  const used = window?.utilization ?? null
  if (used === null) return null
  const usedPercent = Protocol.usedPercent(Math.round(used * 1000) / 10)
  return usedPercent === undefined ? null : { usedPercent, resetsAt: window?.resetsAt ?? null }
}

/**
 * Unified rate-limit headers as windows (`…-5h-utilization` is a 0..1 fraction).
 *
 * @since 0.1.0
 */
export const fromHeaders = (headers: Readonly<Record<string, string>>): Protocol.Windows | null => {
  const unified = UnifiedHeaders.parse(headers)
  const five = percent(unified.fiveHour)
  const seven = percent(unified.sevenDay)
  if (five === null && seven === null) return null
  return {
    ...(five !== null ? { fiveHour: five } : {}),
    ...(seven !== null ? { sevenDay: seven } : {})
  }
}

const fromReport = (view: UsagePoller.View): Protocol.Windows | null => {
  const usage = view.usage
  if (!usage) return null
  const one = (w: typeof usage.five_hour) => {
    const used = Protocol.usedPercent(w?.utilization)
    return w && used !== undefined
      ? { usedPercent: used, resetsAt: w.resets_at ? Date.parse(w.resets_at) || null : null }
      : undefined
  }
  const fiveHour = one(usage.five_hour)
  const sevenDay = one(usage.seven_day)
  return fiveHour || sevenDay ? { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) } : null
}

/**
 * Builds the quota service from `options.initial` (a restored state file)
 * with the given `Backoff`, which it also restores; it starts no fiber until
 * someone asks.
 *
 * @since 0.1.0
 */
export const make = <R>(options: Options<R>): Effect.Effect<QuotaService<R>, never, Backoff.Backoff> =>
  Effect.gen(function* () {
    const backoff = yield* Backoff.Backoff
    const silentAfter = options.silentAfterMs ?? 10 * MINUTE
    const extrasEvery = options.extrasEveryMs ?? 60 * MINUTE
    const free = yield* Ref.make<Snapshot | null>(options.initial?.free ?? null)
    const lastPoll = yield* Ref.make<number>(0)
    const inflight = yield* Ref.make<Option.Option<Fiber.Fiber<UsagePoller.View, never>>>(Option.none())
    const lastSaved = yield* Ref.make<string>("")
    const poller = yield* UsagePoller.make({ account: "claude-code", load: options.login })
    const restored = Schema.decodeUnknownOption(Schema.Unknown)(options.initial?.poller ?? null)
    if (Option.isSome(restored) && restored.value !== null) yield* poller.restore(restored.value as UsagePoller.View)
    if (options.initial) yield* backoff.restore(options.initial.backoff)

    const fingerprintOf = options.login.pipe(Effect.map((login) => login?.snapshot.fingerprint ?? null))

    const record = (snapshot: Snapshot) => Ref.set(free, snapshot)

    const pollIfDue = (now: number, fingerprint: string | null) =>
      Effect.gen(function* () {
        const snapshot = yield* Ref.get(free)
        const freeFresh =
          snapshot !== null && snapshot.fingerprint === fingerprint && now - snapshot.observedAt < silentAfter
        const since = now - (yield* Ref.get(lastPoll))
        if (freeFresh && since < extrasEvery) return Option.none<Fiber.Fiber<UsagePoller.View, never>>()
        const running = yield* Ref.get(inflight)
        if (Option.isSome(running)) return running
        yield* Ref.set(lastPoll, now)
        const fiber = yield* poller.poll.pipe(
          Effect.ensuring(Ref.set(inflight, Option.none())),
          Effect.provideService(Backoff.Backoff, backoff),
          Effect.forkDaemon
        )
        yield* Ref.set(inflight, Option.some(fiber))
        return Option.some(fiber)
      })

    const status = (rateLimits?: Protocol.Windows) =>
      Effect.gen(function* () {
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const fingerprint = yield* fingerprintOf
        if (rateLimits && (rateLimits.fiveHour || rateLimits.sevenDay)) {
          yield* record({ windows: rateLimits, source: "statusline", observedAt: now, fingerprint })
        }
        const started = yield* pollIfDue(now, fingerprint)
        if (Option.isSome(started)) {
          const wait = options.waitForPollMs
          yield* wait === undefined
            ? Fiber.join(started.value)
            : Fiber.join(started.value).pipe(Effect.timeout(wait), Effect.ignore)
        }
        const view = yield* poller.view
        const snapshot = yield* Ref.get(free)
        // A different login's numbers are not this login's numbers.
        const own = snapshot !== null && snapshot.fingerprint === fingerprint ? snapshot : null
        const polled = view.fingerprint === fingerprint ? fromReport(view) : null
        const useFree = own !== null && (polled === null || view.fetchedAt === null || own.observedAt >= view.fetchedAt)
        return {
          windows: useFree ? own.windows : (polled ?? {}),
          source: useFree ? own.source : polled ? ("usage-endpoint" as const) : null,
          observedAt: useFree ? own.observedAt : polled ? view.fetchedAt : null,
          verdict: view.fingerprint === fingerprint ? view.verdict : null,
          until: view.verdict === "RateLimited" || view.verdict === "Overloaded" ? view.nextCallAt : null,
          message: view.fingerprint === fingerprint ? view.message : null
        } satisfies Protocol.Quota
      })

    const ingestHeaders = (headers: Readonly<Record<string, string>>, at?: number) =>
      Effect.gen(function* () {
        const windows = fromHeaders(headers)
        if (windows === null) return
        const now = at ?? (yield* Effect.clockWith((clock) => clock.currentTimeMillis))
        yield* record({ windows, source: "headers", observedAt: now, fingerprint: yield* fingerprintOf })
      })

    const persisted = Effect.gen(function* () {
      const state: Persisted = {
        version: 1,
        free: yield* Ref.get(free),
        poller: yield* poller.view,
        backoff: yield* backoff.snapshot
      }
      // The statusline re-sends the same numbers every few hundred ms: only a change of substance counts.
      const text = JSON.stringify({ ...state, free: state.free ? { ...state.free, observedAt: 0 } : null })
      const changed = (yield* Ref.getAndSet(lastSaved, text)) !== text
      return { state, changed }
    })

    return { status, ingestHeaders, persisted }
  })
