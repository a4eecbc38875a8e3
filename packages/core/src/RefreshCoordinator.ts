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
 * A flight outlives any caller that is interrupted while others still wait on
 * it. When the last waiting caller is interrupted (Ctrl-C, SIGTERM, a scope
 * closing), the flight is interrupted too and that caller waits for it to
 * stop: a `refresh` that marks its send-and-persist section uninterruptible
 * (see {@link toCompletion}) therefore always gets to write the token it spent
 * before the process exits.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
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

/** How a coordinator loads, refreshes and locks tokens, and how early it refreshes. @since 0.1.0 */
export interface Options<T extends Tokens, E, R> {
  /** Reads the current tokens: memory, a store, … Called again under the lock. */
  readonly load: Effect.Effect<T, E, R>
  /** Calls the token endpoint and persists the result. */
  readonly refresh: (current: T) => Effect.Effect<T, E, R>
  /** The cross-process lock; none by default. */
  readonly lock?: CrossProcessLock<E, R> | undefined
  /** Refresh this long before `expiresAt`. Default: Claude Code's 5 minutes. */
  readonly skewMs?: number | undefined
  /**
   * What `load` would yield, when it can be read without an effect (tokens
   * held in memory). Enables {@link RefreshCoordinator.fresh}; leave it out
   * when `load` must read a store every time (another process may have
   * rotated the tokens there).
   */
  readonly peek?: (() => T) | undefined
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

/** The tokens `ensure` settled on, and how it got them. @since 0.1.0 */
export interface Result<T> {
  readonly tokens: T
  readonly outcome: Outcome
}

/** Per call: refresh because the server rejected a token, or force a refresh. @since 0.1.0 */
export interface EnsureOptions {
  /** The access token the server just rejected (401): refresh unless it was already replaced. */
  readonly rejected?: Redacted.Redacted<string> | undefined
  /** Refresh even if the token is not expiring (unless another flight just did). */
  readonly force?: boolean | undefined
}

/** One login's single-flight refresh: every caller that needs a fresh token goes through `ensure`. @since 0.1.0 */
export interface RefreshCoordinator<T extends Tokens, E, R> {
  /** Tokens good for at least the skew, refreshing at most once for all concurrent callers. */
  readonly ensure: (options?: EnsureOptions) => Effect.Effect<Result<T>, E, R>
  /**
   * Without running an effect: the tokens `ensure()` would answer `fresh`
   * with, or `null` when `ensure` has work to do (a refresh, a store to read,
   * no `peek`). The same rule as `ensure`, for a hot path.
   */
  readonly fresh: (now: number) => T | null
}

/**
 * Runs `effect` to its end even when the caller is interrupted meanwhile: the
 * interruption waits until `effect` has finished. Unlike
 * `Effect.uninterruptible`, the effect's own timeouts still work (it runs in
 * an interruptible fiber of its own that only its own timers interrupt).
 *
 * Use it around "spend the refresh token, then persist what came back": once
 * the request is sent, stopping halfway loses the login.
 *
 * @since 0.1.0
 */
export const toCompletion = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.uninterruptible(Effect.flatMap(Effect.forkDaemon(Effect.interruptible(effect)), Fiber.join))

/** One flight in progress and how many callers wait on it. */
interface Flight<T, E> {
  readonly deferred: Deferred.Deferred<Result<T>, E>
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  waiters: number
}

/**
 * Builds a coordinator for one login. Share one per login in a process; two would
 * refresh the same single-use token twice.
 *
 * @since 0.1.0
 */
export const make = <T extends Tokens, E, R>(options: Options<T, E, R>): Effect.Effect<RefreshCoordinator<T, E, R>> =>
  Effect.gen(function* () {
    const inflight = yield* SynchronizedRef.make(Option.none<Flight<T, E>>())
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

        type Joined = readonly [readonly [Flight<T, E>, boolean], Option.Option<Flight<T, E>>]
        const [slot, leader] = yield* Effect.uninterruptible(
          SynchronizedRef.modifyEffect(inflight, (existing): Effect.Effect<Joined, never, R> => {
            if (Option.isSome(existing)) {
              existing.value.waiters++
              return Effect.succeed([[existing.value, false], existing])
            }
            return Effect.gen(function* () {
              const deferred = yield* Deferred.make<Result<T>, E>()
              // A daemon: it outlives an interrupted leader while other callers wait on it. Interruptible,
              // unlike the registration it is forked from, so the last caller can stop it while it waits.
              const fiber = yield* Effect.interruptible(flight(rejected)).pipe(
                Effect.onExit((exit) =>
                  SynchronizedRef.set(inflight, Option.none()).pipe(Effect.zipRight(Deferred.done(deferred, exit)))
                ),
                Effect.asVoid,
                Effect.forkDaemon
              )
              const created: Flight<T, E> = { deferred, fiber, waiters: 1 }
              return [[created, true], Option.some(created)] satisfies Joined
            })
          })
        )
        const result: Result<T> = yield* Deferred.await(slot.deferred).pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              slot.waiters--
              // The last caller gone: stop the flight, and wait until it has (its critical section included).
              return Exit.isInterrupted(exit) && slot.waiters === 0 ? Fiber.interrupt(slot.fiber) : Effect.void
            })
          )
        )
        return leader || result.outcome !== "refreshed" ? result : { ...result, outcome: "joined" as const }
      })

    const peek = options.peek
    const fresh = (now: number): T | null => {
      if (peek === undefined) return null
      const current = peek()
      return needs(current, now, null) ? null : current
    }

    return { ensure, fresh }
  })
