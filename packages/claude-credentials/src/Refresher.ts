/**
 * Refreshes the Claude Code login safely alongside Claude Code:
 *
 * 1. under Claude Code's own refresh lock, the store is read again — a token
 *    another process already rotated is adopted without any call;
 * 2. otherwise one refresh through core's OAuth client (stored scopes as
 *    `scope`), with core's backoff on the token endpoint;
 * 3. the new login is merged into the whole document (every key and field we
 *    do not own kept), compared-and-swapped on the refresh token that was sent,
 *    and written under the storage-write lock.
 *
 * In-process callers share one flight (core's RefreshCoordinator).
 *
 * @since 0.1.0
 */
import { Backoff, Classification, Credential, OAuthClient, RefreshCoordinator } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Store, StoreError } from "./CredentialStore.js"
import {
  LoginDead,
  NoLogin,
  NotASubscriptionLogin,
  RefreshBackedOff,
  RefreshNotPersisted
} from "./RefreshErrors.js"

/** The lock a phase runs under; the Node adapter passes Claude Code's. @since 0.1.0 */
export type Lock<E> = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => Effect.Effect<A, E | E2, R2>

/** What happened. @since 0.1.0 */
export interface Outcome {
  /**
   * `NotNeeded`: the token was good for more than five minutes; `Adopted`:
   * another process had already refreshed; `Refreshed`: this process did.
   */
  readonly _tag: "NotNeeded" | "Adopted" | "Refreshed"
  readonly expiresAt: number | null
  readonly scopes: ReadonlyArray<string> | null
  readonly fingerprint: string
}

/** Every way a refresh can fail. @since 0.1.0 */
export type RefreshError<LE> =
  | Classification.Failure
  | NoLogin
  | NotASubscriptionLogin
  | LoginDead
  | RefreshBackedOff
  | RefreshNotPersisted
  | StoreError
  | LE

/** @since 0.1.0 */
export interface Options<LE> {
  readonly store: Store
  /** Claude Code's refresh lock (`.oauth_refresh.lock` + the legacy lock). */
  readonly refreshLock: Lock<LE>
  /** Claude Code's `.storage-write.lock`, around the write. */
  readonly writeLock: Lock<LE>
  /** Names the login in backoff state. Default `"claude-code"`. */
  readonly account?: string | undefined
}

/** @since 0.1.0 */
export interface Refresher<LE> {
  /** Refreshes; with `ifNeeded`, only when the token expires within Claude Code's five minutes. */
  readonly refresh: (options?: { readonly ifNeeded?: boolean | undefined }) => Effect.Effect<
    Outcome,
    RefreshError<LE>,
    OAuthClient.OAuthClient | Backoff.Backoff
  >
}

interface Held extends RefreshCoordinator.Tokens {
  readonly document: Credential.Document
  readonly record: Credential.OAuthRecord
  /** Where these tokens came from in this flight. */
  readonly origin: "store" | "endpoint"
}

const held = (document: Credential.Document, record: Credential.OAuthRecord, origin: Held["origin"]): Held => ({
  document,
  record,
  origin,
  accessToken: Redacted.make(record.accessToken),
  refreshToken: record.refreshToken ? Redacted.make(record.refreshToken) : null,
  expiresAt: typeof record.expiresAt === "number" ? record.expiresAt : null
})

/**
 * The fields a refresh owns; every other field of the record is kept as it is.
 *
 * @since 0.1.0
 */
export const merge = (record: Credential.OAuthRecord, grant: OAuthClient.TokenGrant): Credential.OAuthRecord => {
  const scopes = grant.scopes ?? record.scopes
  return {
    ...record,
    accessToken: Redacted.value(grant.accessToken),
    refreshToken: grant.refreshToken ? Redacted.value(grant.refreshToken) : record.refreshToken,
    expiresAt: grant.expiresAt,
    ...(scopes !== undefined ? { scopes } : {}),
    ...(grant.refreshTokenExpiresAt !== null ? { refreshTokenExpiresAt: grant.refreshTokenExpiresAt } : {})
  }
}

/**
 * @since 0.1.0
 */
export const make = <LE>(options: Options<LE>): Effect.Effect<Refresher<LE>, never, OAuthClient.OAuthClient | Backoff.Backoff> =>
  Effect.gen(function* () {
    const client = yield* OAuthClient.OAuthClient
    const backoff = yield* Backoff.Backoff
    const { store } = options
    const where = store.backend === "file" ? store.location.file : `Keychain "${store.location.keychainService}"`
    const key: Backoff.Key = { account: options.account ?? "claude-code", endpoint: "token" }

    const load: Effect.Effect<Held, NoLogin | StoreError> = store.read.pipe(
      Effect.flatMap((document) =>
        Option.isNone(document)
          ? Effect.fail(new NoLogin({ where, reason: "empty" }))
          : document.value.claudeAiOauth === undefined
            ? Effect.fail(new NoLogin({ where, reason: "no_record" }))
            : Effect.succeed(held(document.value, document.value.claudeAiOauth, "store"))
      )
    )

    const persist = (sent: string, grant: OAuthClient.TokenGrant) =>
      options.writeLock(
        Effect.gen(function* () {
          const latest = yield* store.read
          const current = Option.getOrUndefined(latest)
          // Compare-and-swap on the refresh token we spent.
          if (current?.claudeAiOauth?.refreshToken !== sent) {
            return yield* new RefreshNotPersisted({ where, reason: "store_changed" })
          }
          // Merge into the latest document: anything else changed meanwhile (an MCP login, a field) is kept.
          const document = { ...current, claudeAiOauth: merge(current.claudeAiOauth, grant) }
          yield* store.write(document)
          return held(document, document.claudeAiOauth, "endpoint")
        })
      ).pipe(
        Effect.catchAll((error) =>
          error instanceof RefreshNotPersisted
            ? Effect.fail(error)
            : Effect.fail(
                new RefreshNotPersisted({
                  where,
                  reason: "write_failed",
                  cause: error instanceof Error ? error.message : String(error)
                })
              )
        )
      )

    const refreshOnce = (current: Held) =>
      Effect.gen(function* () {
        const sent = current.record.refreshToken
        if (!sent) return yield* new NoLogin({ where, reason: "no_refresh_token" })
        if (!Credential.isClaudeCodeLogin(current.record) && current.record.scopes !== undefined) {
          return yield* new NotASubscriptionLogin({ where })
        }
        const fingerprint = Credential.fingerprint(sent)
        const decision = yield* backoff.decide(key, fingerprint)
        if (decision._tag !== "Allowed") {
          return yield* new RefreshBackedOff({
            verdict: decision.verdict,
            until: decision._tag === "Delayed" ? decision.until : null
          })
        }
        const scopes = Array.isArray(current.record.scopes) ? current.record.scopes : null
        const outcome = yield* Effect.either(client.refresh({ refreshToken: Redacted.make(sent), scopes }))
        if (outcome._tag === "Left") {
          const verdict = outcome.left
          yield* backoff.record(key, fingerprint, verdict)
          if (verdict._tag !== "RefreshRejected" || verdict.reason !== "invalid_grant") return yield* Effect.fail(verdict)
          // Someone may have rotated it under us without the lock: believe the store, never blank it.
          const reread = yield* load
          if (reread.record.refreshToken !== sent) return reread
          return yield* new LoginDead({ where })
        }
        yield* backoff.record(key, fingerprint, refreshed)
        if (!Credential.isClaudeCodeLogin(merge(current.record, outcome.right))) {
          return yield* new RefreshNotPersisted({ where, reason: "response_lacks_inference" })
        }
        return yield* persist(sent, outcome.right)
      })

    const coordinator = yield* RefreshCoordinator.make<Held, RefreshError<LE>, never>({
      load,
      refresh: (current) =>
        refreshOnce(current).pipe(
          Effect.provideService(OAuthClient.OAuthClient, client),
          Effect.provideService(Backoff.Backoff, backoff)
        ),
      lock: options.refreshLock
    })

    return {
      refresh: (opts = {}) =>
        coordinator.ensure(opts.ifNeeded ? {} : { force: true }).pipe(
          Effect.map(({ tokens, outcome }): Outcome => ({
            _tag:
              outcome === "fresh"
                ? "NotNeeded"
                : outcome === "adopted" || tokens.origin === "store"
                  ? "Adopted"
                  : "Refreshed",
            expiresAt: tokens.expiresAt,
            scopes: Array.isArray(tokens.record.scopes) ? tokens.record.scopes : null,
            fingerprint: Credential.fingerprint(Redacted.value(tokens.accessToken))
          }))
        )
    }
  })

const refreshed = new Classification.Ok({
  endpoint: "token",
  status: 200,
  action: "none",
  retryable: false,
  retryAfterMs: null,
  requestId: null
})
