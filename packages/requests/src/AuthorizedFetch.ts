/**
 * The request path the plugin hands opencode's Anthropic provider: a plain
 * `fetch` that signs each request with the current subscription login,
 * refreshes ahead of expiry (one flight for every concurrent caller), and
 * then does what core's verdict on each answer says: refresh once when it
 * says `refresh`, wait out a short `wait` and resend once, skip an account
 * that cannot serve (cap, org policy, extra usage, dead login, missing scope)
 * and fail over. When no account can serve, opencode gets core's message in
 * Anthropic's error envelope, in a form it retries only when a retry can
 * help (`internal/envelope.ts`).
 *
 * The pieces: `internal/signing.ts` (one request signed for one account),
 * `internal/attempt.ts` (one account, acting on the verdict),
 * `internal/failover.ts` (across accounts, with the shared state).
 *
 * Effect runs inside; the boundary is promises, because that is what the AI
 * SDK calls.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Backoff from "@tollgate/core/Backoff"
import type * as C from "@tollgate/core/Classification"
import * as OAuthClient from "@tollgate/core/OAuthClient"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as AccountStore from "./AccountStore.js"
import type * as DaemonForwarder from "./DaemonForwarder.js"
import * as Account from "./internal/account.js"
import * as AccountKey from "./internal/accountKey.js"
import * as Envelope from "./internal/envelope.js"
import * as Failover from "./internal/failover.js"

/** A login: subscription OAuth or an API key. @since 0.1.0 */
export type Login = Account.Login

/** A subscription login as opencode's `auth.json` holds it. @since 0.1.0 */
export type OAuthLogin = Account.OAuthLogin

/** An API-key login. @since 0.1.0 */
export type ApiKeyLogin = Account.ApiKeyLogin

/** The tokens a refresh produced, in opencode's shape. @since 0.1.0 */
export type Tokens = Account.Tokens

/** The logins to sign with, in order, and what the fetch persists, shares and reports as it goes. @since 0.1.0 */
export interface Options {
  /** Logins in preference order; a request moves on only when one cannot serve it. */
  readonly accounts: ReadonlyArray<Login>
  /** Stores refreshed tokens (opencode: `client.auth.set`); a failure is ignored. */
  readonly persist?: ((tokens: Tokens, account: number) => Promise<unknown> | unknown) | undefined
  /** Base URLs, client id, User-Agents…; default core's. */
  readonly settings?: Partial<OAuthConfig.Settings> | undefined
  /** The messages User-Agent; default `settings.userAgent.messages`. */
  readonly userAgent?: string | undefined
  /**
   * The longest wait a verdict may ask for (Retry-After, or until a reset)
   * that is waited out here before one resend; a longer one skips the
   * account, and surfaces at once when no other can serve. Default 10 s.
   */
  readonly retryAfterCapMs?: number | undefined
  /** Per-account state shared across processes and restarts; none by default (the plugin passes one). */
  readonly store?: AccountStore.AccountStore | null | undefined
  /** Receives the unified headers of every upstream response (the plugin passes the daemon's). */
  readonly forwarder?: DaemonForwarder.Forwarder | null | undefined
  /** Told when the account serving requests changes; a throw is ignored. */
  readonly onSwitch?: ((event: SwitchEvent) => unknown) | undefined
  /** opencode's auth.json holding account 0 (the plugin passes it): refreshes locked across processes. */
  readonly authFile?: string | null | undefined
  /**
   * The response for a verdict no account could serve past. Default: the
   * form that makes opencode retry exactly what a retry can fix
   * ({@link opencodeErrorResponse}); a gateway passes the upstream status on.
   */
  readonly errorResponse?: ErrorResponse | undefined
  /**
   * An `event: error` inside a stream that began well: `raise` (default)
   * ends the stream with core's message; `pass` passes the event on as it
   * came, and reads each stream's first event before answering, so a stream
   * that opens with an error is answered like an error response (the next
   * account, or core's message under its status). Its verdict is recorded
   * either way.
   */
  readonly streamErrors?: "raise" | "pass" | undefined
  /**
   * With `streamErrors: "pass"`, the `event: error` block a client gets in
   * place of the upstream's, e.g. one carrying core's message; default the
   * upstream's block as it came.
   */
  readonly errorEvent?: ((failure: C.Failure) => string) | undefined
  /**
   * Read the shared state (`store`) at most this often, and write an
   * unchanged healthy answer at most this often; any other verdict is
   * written at once. Default 0: on every request (opencode's pace). A
   * gateway under load sets a few seconds.
   */
  readonly stateEveryMs?: number | undefined
  /**
   * How a signed request is sent upstream; default the global `fetch`. It
   * must answer as fetch does: a `Response`, or a throw when no answer
   * came. (The gateway sends with `node:http`.)
   */
  readonly transport?: ((input: string | URL, init: RequestInit) => Promise<Response>) | undefined
}

/** Builds the answer for a verdict no account could serve past. @since 0.1.0 */
export type ErrorResponse = Failover.ErrorResponse

/** The answer opencode gets (see `internal/envelope.ts`). @since 0.1.0 */
export const opencodeErrorResponse: ErrorResponse = Envelope.errorResponse

/**
 * How long a verdict asks to wait from `now` (until its reset, else its
 * Retry-After); `null` when unknown.
 *
 * @since 0.1.0
 */
export const waitMs: (c: C.Failure, now: number) => number | null = Envelope.waitMs

/** Whether a later identical request can succeed: `backoff`, or a wait no longer than `waitCapMs`. @since 0.1.0 */
export const retryHelps: (c: C.Failure, now: number, waitCapMs: number) => boolean = Envelope.retryHelps

/** The serving account changed (indexes are 0-based). @since 0.1.0 */
export interface SwitchEvent extends Failover.SwitchEvent {}

/**
 * The key an account's shared state goes under: the fingerprint of its
 * refresh token or API key, never the secret.
 *
 * @since 0.1.0
 */
export const accountKey: (login: Login, index: number) => string = AccountKey.accountKey

/**
 * The signed `fetch` handed to opencode's Anthropic provider (and used by the
 * gateway): same signature as `fetch`.
 *
 * @since 0.1.0
 */
export type AuthorizedFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

/**
 * Ten seconds: the longest wait sat out before one resend; a longer wait moves on
 * to the next account instead of stalling the request.
 *
 * @since 0.1.0
 */
export const DEFAULT_RETRY_AFTER_CAP_MS = 10_000

/**
 * Builds the fetch.
 *
 * @since 0.1.0
 */
export const make = (options: Options): AuthorizedFetch => {
  const settings = OAuthConfig.make(options.settings ?? {})
  const persist = options.persist ?? (() => undefined)
  const keys = options.accounts.map(accountKey)
  return Failover.make({
    accounts: options.accounts.map((login, index) =>
      Effect.runSync(
        // Only the first account is opencode's auth.json login; the others keep their tokens elsewhere.
        Account.make(index, login, persist, keys[index]!, { authFile: index === 0 ? (options.authFile ?? null) : null })
      )
    ),
    keys,
    runtime: ManagedRuntime.make(
      Layer.merge(
        OAuthClient.layer.pipe(Layer.provide(Layer.merge(OAuthConfig.layer(settings), FetchHttpClient.layer))),
        Backoff.layer()
      )
    ),
    signer: {
      oauthBeta: settings.oauthBeta,
      userAgent: options.userAgent ?? settings.userAgent.messages,
      transport: options.transport
    },
    waitCapMs: options.retryAfterCapMs ?? DEFAULT_RETRY_AFTER_CAP_MS,
    store: options.store ?? null,
    forwarder: options.forwarder ?? null,
    onSwitch: options.onSwitch,
    errorResponse: options.errorResponse,
    streamErrors: options.streamErrors,
    errorEvent: options.errorEvent,
    stateEveryMs: options.stateEveryMs
  })
}
