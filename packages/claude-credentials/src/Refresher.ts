/**
 * Refreshes the Claude Code login safely alongside Claude Code:
 *
 * 1. under Claude Code's own refresh lock, the store is read again — a token
 *    another process already rotated is adopted without any call;
 * 2. otherwise, under the storage-write lock too, the replacement is prepared
 *    before anything is spent (`Store.prepare`: the document serialized with
 *    placeholder tokens, the temp file created with the original's owner,
 *    filled and synced) — a full disk, a document that cannot be written
 *    back or an owner we cannot keep refuses here, with the token unspent;
 * 3. one refresh through core's OAuth client (stored scopes as `scope`), with
 *    core's backoff on the token endpoint;
 * 4. the new login is merged into the latest document (every key and field
 *    we do not own kept), compared-and-swapped on the refresh token that was
 *    sent, and committed into the prepared file: the only work left between
 *    the response and the rename.
 *
 * Steps 3 and 4 run to completion once started: an interruption (Ctrl-C,
 * SIGTERM, the last caller gone) waits for them, so the spent token's
 * successor is always written. In-process callers share one flight (core's
 * RefreshCoordinator).
 *
 * @since 0.1.0
 */
import { Backoff, Classification, Credential, OAuthClient, RefreshCoordinator } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Prepared, Store, StoreError } from "./CredentialStore.js"
import { LoginDead, NoLogin, NotASubscriptionLogin, RefreshBackedOff, RefreshNotPersisted } from "./RefreshErrors.js"

/** The lock a phase runs under; the Node adapter passes Claude Code's. @since 0.1.0 */
export type Lock<E> = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => Effect.Effect<A, E | E2, R2>

/** What happened. @since 0.1.0 */
export interface Outcome {
  /**
   * `NotNeeded`: the token was good for more than five minutes; `Adopted`:
   * another process had already refreshed; `Refreshed`: this process did.
   */
  readonly _tag: "NotNeeded" | "Adopted" | "Refreshed"
  /** The access token now in the store, for a caller that uses it (`tollgate token`). @since 0.3.0 */
  readonly accessToken: Redacted.Redacted<string>
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

/**
 * What {@link make} needs: the store and the two locks to run under (the Node
 * adapter passes Claude Code's), and the account the backoff is kept for.
 *
 * @since 0.1.0
 */
export interface Options<LE> {
  readonly store: Store
  /** Claude Code's refresh lock (`.oauth_refresh.lock` + the legacy lock). */
  readonly refreshLock: Lock<LE>
  /** Claude Code's `.storage-write.lock`, around the write. */
  readonly writeLock: Lock<LE>
  /** Names the login in backoff state. Default `"claude-code"`. */
  readonly account?: string | undefined
}

/**
 * The most `minValidMs` asks for. Anthropic's access tokens last eight hours;
 * a request for more than a fresh token can give would refresh on every call
 * (and, from processes that arrive after one refreshed, once each), so longer
 * requests are read as "as fresh as a refresh once made it".
 *
 * @since 0.3.0
 */
export const MAX_MIN_VALID_MS = 60 * 60 * 1000

/**
 * When a call to `refresh` should actually refresh: always (the default), or
 * only when the token is about to expire or was just rejected.
 *
 * @since 0.1.0
 */
export interface RefreshOptions {
  /** Refresh only when the token expires within Claude Code's five minutes (or `minValidMs`). */
  readonly ifNeeded?: boolean | undefined
  /**
   * Refresh only when the token expires within this many milliseconds
   * (capped at {@link MAX_MIN_VALID_MS}); implies `ifNeeded`. A token another
   * process wrote while this one waited for the lock is adopted as it is.
   *
   * @since 0.3.0
   */
  readonly minValidMs?: number | undefined
  /**
   * The fingerprint (`Credential.fingerprint`) of an access token the server
   * just rejected: refresh if the store still holds it; a newer token in the
   * store is returned without a call (unless it expires within `minValidMs`).
   * Implies `ifNeeded`.
   *
   * @since 0.3.0
   */
  readonly rejectedFingerprint?: string | undefined
}

/** Refreshes the login in one store under its locks; built by {@link make}. @since 0.1.0 */
export interface Refresher<LE> {
  /** Refreshes; with `ifNeeded`, `minValidMs` or `rejectedFingerprint`, only when needed. */
  readonly refresh: (
    options?: RefreshOptions
  ) => Effect.Effect<Outcome, RefreshError<LE>, OAuthClient.OAuthClient | Backoff.Backoff>
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
 * The span around the token request. With {@link SPAN_PERSIST} it lets a
 * tracer measure the window a SIGKILL can still lose a login in: from this
 * span's end (the new tokens are in memory) to the persist span's end (they
 * are renamed into place).
 *
 * @since 0.2.0
 */
export const SPAN_REQUEST = "tollgate.refresh.request"

/** The span around the final commit of the refreshed login. @since 0.2.0 */
export const SPAN_PERSIST = "tollgate.refresh.persist"

// A little longer than the tokens it stands for (rotation keeps their length), so the prepared temp
// file reserves at least the room the real document will take.
const placeholder = (value: string | null | undefined): string => "x".repeat(Math.max(value?.length ?? 0, 108) + 32)

/**
 * The document a refresh will write, with placeholder values at least as
 * large as the real ones: what the store prepares before the token is spent.
 */
const template = (document: Credential.Document, record: Credential.OAuthRecord): Credential.Document => ({
  ...document,
  claudeAiOauth: {
    ...record,
    accessToken: placeholder(record.accessToken),
    refreshToken: placeholder(record.refreshToken),
    expiresAt: Number.MAX_SAFE_INTEGER,
    scopes: [...(record.scopes ?? []), placeholder("")],
    refreshTokenExpiresAt: Number.MAX_SAFE_INTEGER
  }
})

/**
 * Builds a refresher over `options.store`, following the protocol above:
 * re-read under the refresh lock, prepare, one token request with backoff,
 * merge and commit. `ClaudeCredentials.open` wires it to Claude Code's store
 * and locks; use `make` directly for another store or lock.
 *
 * @since 0.1.0
 */
export const make = <LE>(
  options: Options<LE>
): Effect.Effect<Refresher<LE>, never, OAuthClient.OAuthClient | Backoff.Backoff> =>
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

    // After the token is spent: the least that can be done. Compare-and-swap on the refresh token we
    // spent, merged into the latest document (anything changed meanwhile — an MCP login, a field — is
    // kept), written into the temp file prepared before the request and renamed, in one step.
    const persist = (sent: string, grant: OAuthClient.TokenGrant, prepared: Prepared) =>
      prepared
        .swap((latest) => {
          const current = Option.getOrUndefined(latest)
          return current?.claudeAiOauth?.refreshToken === sent
            ? Either.right<Credential.Document>({ ...current, claudeAiOauth: merge(current.claudeAiOauth, grant) })
            : Either.left(new RefreshNotPersisted({ where, reason: "store_changed" }))
        })
        .pipe(
          Effect.withSpan(SPAN_PERSIST),
          Effect.tap(() => prepared.settle),
          Effect.map((document) => held(document, document.claudeAiOauth!, "endpoint")),
          Effect.catchAll((error) =>
            error instanceof RefreshNotPersisted
              ? Effect.fail(error)
              : Effect.fail(new RefreshNotPersisted({ where, reason: "write_failed", cause: error.message }))
          )
        )

    // Spends the refresh token and persists what came back, as one section that an interruption
    // (Ctrl-C, SIGTERM, the last caller gone) waits for: stopping halfway would lose the login.
    const spend = (current: Held, sent: string, fingerprint: string, prepared: Prepared) =>
      RefreshCoordinator.toCompletion(
        Effect.gen(function* () {
          const scopes = Array.isArray(current.record.scopes) ? current.record.scopes : null
          const outcome = yield* Effect.either(
            client.refresh({ refreshToken: Redacted.make(sent), scopes }).pipe(Effect.withSpan(SPAN_REQUEST))
          )
          if (outcome._tag === "Left") {
            const verdict = outcome.left
            yield* backoff.record(key, fingerprint, verdict)
            if (verdict._tag !== "RefreshRejected" || verdict.reason !== "invalid_grant")
              return yield* Effect.fail(verdict)
            // Someone may have rotated it under us without the lock: believe the store, never blank it.
            const reread = yield* load
            if (reread.record.refreshToken !== sent) return reread
            return yield* new LoginDead({ where })
          }
          if (!Credential.isClaudeCodeLogin(merge(current.record, outcome.right))) {
            yield* backoff.record(key, fingerprint, refreshed)
            return yield* new RefreshNotPersisted({ where, reason: "response_lacks_inference" })
          }
          // Persisted first: until the rename, every instant is one a SIGKILL can lose the login in.
          const persisted = yield* persist(sent, outcome.right, prepared)
          yield* backoff.record(key, fingerprint, refreshed)
          return persisted
        }).pipe(
          // No cooperative yield to other fibers between the answer and the rename: only real I/O waits.
          Effect.withMaxOpsBeforeYield(Number.MAX_SAFE_INTEGER)
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
        // Under the storage-write lock from here to the rename, and everything that can fail or take
        // time done before the request: a store that cannot be written back, a full disk or a foreign
        // owner we cannot keep refuses now, while the refresh token is still unspent.
        return yield* options.writeLock(
          Effect.scoped(
            Effect.gen(function* () {
              const prepared = yield* store.prepare(template(current.document, current.record))
              // A fresh process compiles the answer's handling now, not between the answer and the rename.
              yield* client.rehearseRefresh
              Credential.isClaudeCodeLogin(merge(current.record, rehearsalGrant))
              return yield* spend(current, sent, fingerprint, prepared)
            })
          )
        )
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

    const outcomeOf = (tokens: Held, tag: Outcome["_tag"]): Outcome => ({
      _tag: tag,
      accessToken: tokens.accessToken,
      expiresAt: tokens.expiresAt,
      scopes: Array.isArray(tokens.record.scopes) ? tokens.record.scopes : null,
      fingerprint: Credential.fingerprint(Redacted.value(tokens.accessToken))
    })

    const ensured = (opts: RefreshCoordinator.EnsureOptions) =>
      coordinator
        .ensure(opts)
        .pipe(
          Effect.map(({ tokens, outcome }) =>
            outcomeOf(
              tokens,
              outcome === "fresh"
                ? "NotNeeded"
                : outcome === "adopted" || tokens.origin === "store"
                  ? "Adopted"
                  : "Refreshed"
            )
          )
        )

    // The caller's own rule for "needed"; the coordinator's lock phase then refreshes only if the
    // store still holds the token looked at here, and adopts whatever another process wrote instead.
    const conditional = (minValidMs: number, rejectedFingerprint: string | undefined) =>
      Effect.gen(function* () {
        const current = yield* load
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const seen = Credential.fingerprint(Redacted.value(current.accessToken))
        const rejected = rejectedFingerprint !== undefined && rejectedFingerprint === seen
        const skew = Math.min(Math.max(0, minValidMs), MAX_MIN_VALID_MS)
        if (!rejected && !Credential.isExpired(current.expiresAt, now, skew)) return outcomeOf(current, "NotNeeded")
        const result = yield* ensured({ rejected: current.accessToken })
        // Replaced between the two reads: someone else's token, adopted without a call.
        return result._tag === "NotNeeded" && result.fingerprint !== seen
          ? { ...result, _tag: "Adopted" as const }
          : result
      })

    return {
      refresh: (opts = {}) =>
        opts.minValidMs !== undefined || opts.rejectedFingerprint !== undefined
          ? conditional(opts.minValidMs ?? Credential.CLAUDE_CODE_EXPIRY_SKEW_MS, opts.rejectedFingerprint)
          : ensured(opts.ifNeeded ? {} : { force: true })
    }
  })

const rehearsalGrant: OAuthClient.TokenGrant = {
  accessToken: Redacted.make("rehearsal"),
  refreshToken: Redacted.make("rehearsal"),
  expiresAt: 0,
  scopes: ["user:inference"],
  refreshTokenExpiresAt: 0,
  accountUuid: null,
  emailAddress: null,
  organizationUuid: null
}

const refreshed = new Classification.Ok({
  endpoint: "token",
  status: 200,
  action: "none",
  retryable: false,
  retryAfterMs: null,
  requestId: null
})
