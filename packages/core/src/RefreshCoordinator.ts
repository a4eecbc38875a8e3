/**
 * Single-flight refresh. Any number of concurrent callers that find the token
 * expiring share one refresh; refresh tokens are single-use, so two refreshes
 * racing each other log the user out.
 *
 * Cross-process coordination is a port: pass a `lock` (the credential writer
 * passes Claude Code's own lock protocol). Under the lock the tokens are
 * loaded again, and a token someone else already refreshed is adopted without
 * a call.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as Credential from "./Credential.js"

/** The minimum a coordinated credential carries. @since 0.1.0 */
export interface Tokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string> | null
  /** Epoch ms, `null` never expires. */
  readonly expiresAt: number | null
}

/**
 * Runs an effect while holding a lock shared with other processes.
 *
 * @since 0.1.0
 */
export type CrossProcessLock<E, R> = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => Effect.Effect<A, E | E2, R | R2>

/** @since 0.1.0 */
export interface Options<T extends Tokens, E, R> {
  /** Reads the current tokens: memory, a store, … Called again under the lock. */
  readonly load: Effect.Effect<T, E, R>
  /** Calls the token endpoint and persists the result. */
  readonly refresh: (current: T) => Effect.Effect<T, E, R>
  /** The cross-process lock; none by default. */
  readonly lock?: CrossProcessLock<E, R> | undefined
  /** Refresh this long before `expiresAt`. Default: Claude Code's 5 minutes. */
  readonly skewMs?: number | undefined
}

/**
 * - `fresh`: no refresh was needed.
 * - `refreshed`: this caller's flight called the token endpoint.
 * - `joined`: another caller's flight in this process refreshed.
 * - `adopted`: under the lock, the store already held a fresh token.
 *
 * @since 0.1.0
 */
export type Outcome = "fresh" | "refreshed" | "joined" | "adopted"

/** @since 0.1.0 */
export interface Result<T> {
  readonly tokens: T
  readonly outcome: Outcome
}

/** @since 0.1.0 */
export interface EnsureOptions {
  /** The access token the server just rejected (401): refresh unless it was already replaced. */
  readonly rejected?: Redacted.Redacted<string> | undefined
  /** Refresh even if the token is not expiring (unless another flight just did). */
  readonly force?: boolean | undefined
}

/** @since 0.1.0 */
export interface RefreshCoordinator<T extends Tokens, E, R> {
  /** Tokens good for at least the skew, refreshing at most once for all concurrent callers. */
  readonly ensure: (options?: EnsureOptions) => Effect.Effect<Result<T>, E, R>
}

/**
 * @since 0.1.0
 */
export const make = <T extends Tokens, E, R>(
  options: Options<T, E, R>
): Effect.Effect<RefreshCoordinator<T, E, R>> =>
  Effect.gen(function* () {
    const inflight = yield* SynchronizedRef.make(Option.none<Deferred.Deferred<Result<T>, E>>())
    const skew = options.skewMs ?? Credential.CLAUDE_CODE_EXPIRY_SKEW_MS
    const lock: CrossProcessLock<E, R> = options.lock ?? ((effect) => effect)
    const fp = (t: T) => Credential.fingerprint(Redacted.value(t.accessToken))

    const needs = (t: T, now: number, rejected: string | null): boolean =>
      (rejected !== null && fp(t) === rejected) || Credential.isExpired(t.expiresAt, now, skew)

    const flight = (rejected: string | null): Effect.Effect<Result<T>, E, R> =>
      lock(
        Effect.gen(function* () {
          const current = yield* options.load
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          if (!needs(current, now, rejected)) return { tokens: current, outcome: "adopted" as const }
          return { tokens: yield* options.refresh(current), outcome: "refreshed" as const }
        })
      )

    const ensure = (opts: EnsureOptions = {}): Effect.Effect<Result<T>, E, R> =>
      Effect.gen(function* () {
        const current = yield* options.load
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const rejected = opts.rejected
          ? Credential.fingerprint(Redacted.value(opts.rejected))
          : opts.force
            ? fp(current)
            : null
        if (!needs(current, now, rejected)) return { tokens: current, outcome: "fresh" as const }

        type Slot = Option.Option<Deferred.Deferred<Result<T>, E>>
        const [deferred, leader] = yield* SynchronizedRef.modifyEffect(
          inflight,
          (existing): Effect.Effect<readonly [readonly [Deferred.Deferred<Result<T>, E>, boolean], Slot]> =>
            Option.isSome(existing)
              ? Effect.succeed([[existing.value, false], existing])
              : Effect.map(Deferred.make<Result<T>, E>(), (d) => [[d, true], Option.some(d)])
        )
        if (leader) {
          // The flight outlives an interrupted leader: other callers are waiting on it.
          const context = yield* Effect.context<R>()
          yield* flight(rejected).pipe(
            Effect.exit,
            Effect.tap(() => SynchronizedRef.set(inflight, Option.none())),
            Effect.flatMap((exit) => Deferred.done(deferred, exit)),
            Effect.provide(context),
            Effect.forkDaemon
          )
        }
        const result: Result<T> = yield* Deferred.await(deferred)
        return leader || result.outcome !== "refreshed" ? result : { ...result, outcome: "joined" as const }
      })

    return { ensure }
  })
