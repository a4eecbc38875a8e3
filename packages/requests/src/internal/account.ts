/**
 * One login's state in this process: its tokens, its single-flight refresh
 * (guarded by the token endpoint's backoff), and until when it is skipped.
 */
import * as Backoff from "@tollgate/core/Backoff"
import * as C from "@tollgate/core/Classification"
import * as Credential from "@tollgate/core/Credential"
import * as OAuthClient from "@tollgate/core/OAuthClient"
import * as RefreshCoordinator from "@tollgate/core/RefreshCoordinator"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Location } from "@tollgate/claude-credentials/StoreLocation"
import { LockDir } from "@tollgate/files"
import * as AuthFile from "./authFile.js"
import * as SharedLogin from "./sharedLogin.js"

/** A subscription login as opencode stores it (`expires` in epoch ms). */
export interface OAuthLogin {
  readonly type: "oauth"
  readonly access: string
  readonly refresh: string | null
  readonly expires: number
  /** `null`/absent: unknown (opencode does not store scopes). */
  readonly scopes?: ReadonlyArray<string> | null | undefined
}

/** An Anthropic API key. */
export interface ApiKeyLogin {
  readonly type: "api"
  readonly key: string
}

/** The login Claude Code keeps in its own store, shared rather than copied. */
export interface ClaudeCodeLogin {
  readonly type: "claude-code"
  readonly location: Location
}

/** A login the fetch can sign with: OAuth tokens, an API key, or Claude Code's own login. @since 0.1.0 */
export type Login = OAuthLogin | ApiKeyLogin | ClaudeCodeLogin

/** What a refresh hands the `persist` callback. */
export interface Tokens {
  readonly access: string
  readonly refresh: string | null
  readonly expires: number
}

export interface Held extends RefreshCoordinator.Tokens {
  readonly scopes: ReadonlyArray<string> | null
}

export type Requirements = OAuthClient.OAuthClient | Backoff.Backoff

export interface Account {
  readonly index: number
  readonly login: Login
  /** Present for OAuth logins. */
  readonly coordinator: RefreshCoordinator.RefreshCoordinator<Held, C.Failure, Requirements> | null
  current: () => Held | null
  /** Epoch ms before which the account is not asked; `Infinity` for the life of the process. */
  skipUntil: number
  /** Why it is skipped. */
  failure: C.Failure | null
}

const noRefreshToken = () =>
  new C.TokenExpired({
    endpoint: "token",
    status: null,
    action: "reauthenticate",
    retryable: false,
    retryAfterMs: null,
    requestId: null,
    reason: "stale"
  })

const okToken = new C.Ok({
  endpoint: "token",
  status: 200,
  action: "none",
  retryable: false,
  retryAfterMs: null,
  requestId: null
})

/** How a login is coordinated with other processes. */
export interface Extra {
  /**
   * opencode's `auth.json` holding this login (see `defaultAuthFile`):
   * refreshes are serialized across processes by a lock next to it, and a
   * token another process stored there is adopted instead of refreshing.
   * `null`/absent: no cross-process coordination.
   */
  readonly authFile?: string | null | undefined
}

const lockTimedOut = () =>
  new C.Transport({
    endpoint: "token",
    status: null,
    action: "backoff",
    retryable: true,
    retryAfterMs: null,
    requestId: null,
    reason: "timeout"
  })

export const make = (
  index: number,
  login: Login,
  persist: (tokens: Tokens, index: number) => Promise<unknown> | unknown,
  /** The token backoff's account id; a credential fingerprint lets processes share it. Default `opencode-<index>`. */
  backoffId: string = `opencode-${index}`,
  extra: Extra = {}
): Effect.Effect<Account> =>
  Effect.gen(function* () {
    if (login.type === "api") {
      return { index, login, coordinator: null, current: () => null, skipUntil: 0, failure: null }
    }
    if (login.type === "claude-code") return yield* SharedLogin.make(index, login, persist)
    const authFile = extra.authFile ?? null
    let held: Held = {
      accessToken: Redacted.make(login.access),
      refreshToken: login.refresh ? Redacted.make(login.refresh) : null,
      expiresAt: login.expires,
      scopes: login.scopes ?? null
    }
    // The verdict that armed the token endpoint's backoff, replayed while it holds.
    let refused: C.Failure | null = null
    const key: Backoff.Key = { account: backoffId, endpoint: "token" }

    // What another process stored in auth.json, when it differs from what we hold: its refresh token
    // (a rotation we did not see) or a later expiry (a rotation that kept the refresh token).
    const stored: Effect.Effect<Held | null> = Effect.promise(() =>
      authFile === null ? Promise.resolve(null) : AuthFile.readAnthropic(authFile)
    ).pipe(
      Effect.map((entry) => {
        if (entry === null || entry.refresh === "") return null
        const ours = held.refreshToken === null ? null : Redacted.value(held.refreshToken)
        if (entry.refresh === ours && entry.expires <= (held.expiresAt ?? 0)) return null
        return {
          accessToken: Redacted.make(entry.access),
          refreshToken: Redacted.make(entry.refresh),
          expiresAt: entry.expires,
          scopes: held.scopes
        }
      })
    )
    const adopt = (next: Held) =>
      Effect.sync(() => {
        held = next
        refused = null
        return next
      })

    // Under the lock, auth.json first: another process may have refreshed while we waited.
    const lock: RefreshCoordinator.CrossProcessLock<C.Failure, Requirements> | undefined =
      authFile === null
        ? undefined
        : (effect) =>
            Effect.acquireUseRelease(
              Effect.tryPromise(() => AuthFile.acquire(authFile)).pipe(
                Effect.map((l): LockDir.Lock | null => l),
                Effect.catchAll(({ error }) =>
                  // A live holder for the whole wait: its refresh hangs; spending the token beside it would race it.
                  // The lock directory cannot be made at all (a read-only dir): no coordination, as before.
                  error instanceof LockDir.LockBusy ? Effect.fail(lockTimedOut()) : Effect.succeed(null)
                )
              ),
              () =>
                stored.pipe(
                  Effect.flatMap((next) => (next === null ? Effect.void : adopt(next))),
                  Effect.zipRight(effect)
                ),
              (l) => (l === null ? Effect.void : Effect.promise(() => l.release()))
            )

    const refresh = (current: Held, reread = true): Effect.Effect<Held, C.Failure, Requirements> =>
      Effect.gen(function* () {
        const backoff = yield* Backoff.Backoff
        const refreshToken = current.refreshToken
        if (refreshToken === null) return yield* Effect.fail(noRefreshToken())
        const fp = Credential.fingerprint(Redacted.value(refreshToken))
        const decision = yield* backoff.decide(key, fp)
        if (decision._tag !== "Allowed") {
          // The verdict that armed it: persisted by whichever process saw it, else ours, else rebuilt from its tag.
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          return yield* Effect.fail(decision.failure ?? refused ?? Backoff.refusal(decision, "token", now))
        }
        const client = yield* OAuthClient.OAuthClient
        const spend = Effect.gen(function* () {
          const grant = yield* client.refresh({ refreshToken, scopes: current.scopes }).pipe(
            Effect.tapError((c) =>
              backoff.record(key, fp, c).pipe(
                Effect.tap(() => {
                  refused = c
                })
              )
            )
          )
          yield* backoff.record(key, fp, okToken)
          refused = null
          held = {
            accessToken: grant.accessToken,
            // A grant without a refresh token leaves the old one valid.
            refreshToken: grant.refreshToken ?? refreshToken,
            expiresAt: grant.expiresAt,
            scopes: grant.scopes ?? current.scopes
          }
          const tokens: Tokens = {
            access: Redacted.value(held.accessToken),
            refresh: held.refreshToken ? Redacted.value(held.refreshToken) : null,
            expires: grant.expiresAt
          }
          // Awaited (under the lock when there is one): the next process must find the new refresh token.
          // A failed write must not fail the request: the new tokens are in memory.
          yield* Effect.tryPromise(async () => persist(tokens, index)).pipe(Effect.ignore)
          return held
        })
        // Once the refresh token is sent, stopping before the new one is stored would lose the login.
        return yield* RefreshCoordinator.toCompletion(spend).pipe(
          Effect.catchIf(
            (c) => reread && c._tag === "RefreshRejected" && c.reason === "invalid_grant",
            // The verdict's advice: re-read the stored login; a refresh token another process stored replaces ours.
            (c) =>
              stored.pipe(
                Effect.flatMap((next) => {
                  if (next === null || next.refreshToken === null) return Effect.fail(c)
                  if (Redacted.value(next.refreshToken) === Redacted.value(refreshToken)) return Effect.fail(c)
                  return adopt(next).pipe(
                    Effect.flatMap((adopted) =>
                      Credential.isExpired(adopted.expiresAt, Date.now(), Credential.CLAUDE_CODE_EXPIRY_SKEW_MS)
                        ? refresh(adopted, false)
                        : Effect.succeed(adopted)
                    )
                  )
                })
              )
          )
        )
      })

    const coordinator = yield* RefreshCoordinator.make<Held, C.Failure, Requirements>({
      load: Effect.sync(() => held),
      // Held in memory: a request with a token good past the skew needs no effect run.
      peek: () => held,
      refresh: (current) => refresh(current),
      lock
    })
    return { index, login, coordinator, current: () => held, skipUntil: 0, failure: null }
  })

/**
 * Until when a refused refresh keeps the account out of rotation: the token
 * endpoint's backoff, or for good when only a new login helps.
 */
export const refusedUntil = (
  c: C.Failure,
  index: number,
  now: number,
  backoffId: string = `opencode-${index}`
): Effect.Effect<number, never, Backoff.Backoff> =>
  Effect.gen(function* () {
    if (Backoff.blocksUntilCredentialChanges(c) || c._tag === "OrgPolicyDenied") return Number.POSITIVE_INFINITY
    const entry = yield* Effect.flatMap(Backoff.Backoff, (b) => b.entry({ account: backoffId, endpoint: "token" }))
    return entry.until ?? now
  })
