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

/** @since 0.1.0 */
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

const okToken = new C.Ok({ endpoint: "token", status: 200, action: "none", retryable: false, retryAfterMs: null, requestId: null })

export const make = (
  index: number,
  login: Login,
  persist: (tokens: Tokens, index: number) => Promise<unknown> | unknown,
  /** The token backoff's account id; a credential fingerprint lets processes share it. Default `opencode-<index>`. */
  backoffId: string = `opencode-${index}`
): Effect.Effect<Account> =>
  Effect.gen(function* () {
    if (login.type === "api") {
      return { index, login, coordinator: null, current: () => null, skipUntil: 0, failure: null }
    }
    if (login.type === "claude-code") return yield* SharedLogin.make(index, login, persist)
    let held: Held = {
      accessToken: Redacted.make(login.access),
      refreshToken: login.refresh ? Redacted.make(login.refresh) : null,
      expiresAt: login.expires,
      scopes: login.scopes ?? null
    }
    // The verdict that armed the token endpoint's backoff, replayed while it holds.
    let refused: C.Failure | null = null
    const key: Backoff.Key = { account: backoffId, endpoint: "token" }

    const refresh = (current: Held): Effect.Effect<Held, C.Failure, Requirements> =>
      Effect.gen(function* () {
        const backoff = yield* Backoff.Backoff
        const refreshToken = current.refreshToken
        if (refreshToken === null) return yield* Effect.fail(noRefreshToken())
        const fp = Credential.fingerprint(Redacted.value(refreshToken))
        const decision = yield* backoff.decide(key, fp)
        if (decision._tag !== "Allowed" && refused !== null) return yield* Effect.fail(refused)
        const client = yield* OAuthClient.OAuthClient
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
        // A failed write must not fail the request: the new tokens are in memory.
        yield* Effect.tryPromise(async () => persist(tokens, index)).pipe(Effect.ignore)
        return held
      })

    const coordinator = yield* RefreshCoordinator.make<Held, C.Failure, Requirements>({
      load: Effect.sync(() => held),
      refresh
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
