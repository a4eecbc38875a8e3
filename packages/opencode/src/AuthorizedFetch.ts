/**
 * The request path the plugin hands opencode's Anthropic provider: a plain
 * `fetch` that signs each request with the current subscription login,
 * refreshes ahead of expiry (one flight for every concurrent caller), retries
 * only what can succeed, fails over between accounts, and turns every
 * upstream failure into a message that says what to do.
 *
 * Effect runs inside; the boundary is promises, because that is what the AI
 * SDK calls.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Backoff from "@tollgate/core/Backoff"
import type * as C from "@tollgate/core/Classification"
import { classify } from "@tollgate/core/Classify"
import * as OAuthClient from "@tollgate/core/OAuthClient"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import type * as AccountStore from "./AccountStore.js"
import type * as DaemonForwarder from "./DaemonForwarder.js"
import * as AccountState from "./internal/accountState.js"
import * as Account from "./internal/account.js"
import * as AccountKey from "./internal/accountKey.js"
import { errorResponse, statusFor } from "./internal/envelope.js"
import { watchErrors } from "./internal/sse.js"
import * as StatusCommand from "./StatusCommand.js"

/** A login: subscription OAuth or an API key. @since 0.1.0 */
export type Login = Account.Login

/** A subscription login as opencode's `auth.json` holds it. @since 0.1.0 */
export type OAuthLogin = Account.OAuthLogin

/** An API-key login. @since 0.1.0 */
export type ApiKeyLogin = Account.ApiKeyLogin

/** The tokens a refresh produced, in opencode's shape. @since 0.1.0 */
export type Tokens = Account.Tokens

/** @since 0.1.0 */
export interface Options {
  /** Logins in preference order; a request moves on only when one cannot serve it. */
  readonly accounts: ReadonlyArray<Login>
  /** Stores refreshed tokens (opencode: `client.auth.set`); a failure is ignored. */
  readonly persist?: ((tokens: Tokens, account: number) => Promise<unknown> | unknown) | undefined
  /** Base URLs, client id, User-Agents…; default core's. */
  readonly settings?: Partial<OAuthConfig.Settings> | undefined
  /** The messages User-Agent; default `settings.userAgent.messages`. */
  readonly userAgent?: string | undefined
  /** The longest Retry-After waited out before one retry; longer waits surface at once. Default 10 s. */
  readonly retryAfterCapMs?: number | undefined
  /** Per-account state shared across processes and restarts; none by default (the plugin passes one). */
  readonly store?: AccountStore.AccountStore | null | undefined
  /** Receives the unified headers of every upstream response (the plugin passes the daemon's). */
  readonly forwarder?: DaemonForwarder.Forwarder | null | undefined
  /** Told when the account serving requests changes; a throw is ignored. */
  readonly onSwitch?: ((event: SwitchEvent) => unknown) | undefined
}

/** The serving account changed (indexes are 0-based). @since 0.1.0 */
export interface SwitchEvent {
  readonly from: number
  readonly to: number
  readonly reason: string
}

/**
 * The key an account's shared state goes under: the fingerprint of its
 * refresh token or API key, never the secret.
 *
 * @since 0.1.0
 */
export const accountKey: (login: Login, index: number) => string = AccountKey.accountKey

/** @since 0.1.0 */
export type AuthorizedFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

/** @since 0.1.0 */
export const DEFAULT_RETRY_AFTER_CAP_MS = 10_000

// Moved past for the rest of the process: an org that forbids OAuth will not change its mind mid-session.
const EXTRA_USAGE_SKIP_MS = 60 * 60_000
// A cap without a reset time: look again after a while.
const CAP_FALLBACK_MS = 5 * 60_000

type Attempt =
  | { readonly _tag: "Served"; readonly response: Response }
  | { readonly _tag: "Next"; readonly failure: C.Failure; readonly status: number }

const mergeBeta = (existing: string | null, beta: string): string => {
  const betas = (existing ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
  return (betas.includes(beta) ? betas : [...betas, beta]).join(",")
}

const sleep = (ms: number, signal: AbortSignal | null | undefined) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener("abort", done)
      resolve()
    }
    signal?.addEventListener("abort", done, { once: true })
  })

/**
 * Builds the fetch.
 *
 * @since 0.1.0
 */
export const make = (options: Options): AuthorizedFetch => {
  const settings = OAuthConfig.make(options.settings ?? {})
  const userAgent = options.userAgent ?? settings.userAgent.messages
  const cap = options.retryAfterCapMs ?? DEFAULT_RETRY_AFTER_CAP_MS
  const persist = options.persist ?? (() => undefined)
  const runtime = ManagedRuntime.make(
    Layer.merge(
      OAuthClient.layer.pipe(Layer.provide(Layer.merge(OAuthConfig.layer(settings), FetchHttpClient.layer))),
      Backoff.layer()
    )
  )
  const store = options.store ?? null
  const forwarder = options.forwarder ?? null
  const keys = options.accounts.map(accountKey)
  const accounts = options.accounts.map((login, index) => Effect.runSync(Account.make(index, login, persist, keys[index]!)))
  // Why each account was last skipped, for the switch event.
  const reasons = new Map<number, string>()
  let active = 0

  const quiet = (p: Promise<unknown>) => p.then(() => undefined, () => undefined)
  // Restore the shared token backoff once, before the first request.
  let ready: Promise<void> | null = null
  const start = () =>
    (ready ??= store === null
      ? Promise.resolve()
      : quiet(store.read().then((file) => runtime.runPromise(Effect.flatMap(Backoff.Backoff, (b) => b.restore(file.backoff))))))
  const saveBackoff = () =>
    store === null
      ? Promise.resolve()
      : quiet(runtime.runPromise(Effect.flatMap(Backoff.Backoff, (b) => b.snapshot)).then((state) => store.mergeBackoff(state)))
  const record = (account: Account.Account, patch: Partial<Omit<AccountStore.AccountState, "updatedAt">>) =>
    store === null ? Promise.resolve() : quiet(store.update(keys[account.index]!, patch))
  const skip = (account: Account.Account, c: C.Failure, until: number) => {
    account.skipUntil = until
    account.failure = c
    reasons.set(account.index, c.message)
    return record(account, {
      verdict: c._tag,
      skipUntil: until,
      blockedFingerprint: until === Number.POSITIVE_INFINITY ? keys[account.index]!.replace(/^[a-z-]+:/, "") : null
    })
  }
  // What other processes (or an earlier run) learned: the later skip wins.
  const adopt = async () => {
    if (store === null) return
    const file = await store.read().catch(() => null)
    if (file === null) return
    const now = Date.now()
    for (const account of accounts) {
      const shared = file.accounts[keys[account.index]!]
      if (!shared || shared.skipUntil === null || shared.skipUntil <= now || shared.skipUntil <= account.skipUntil) continue
      account.skipUntil = shared.skipUntil >= AccountState.FOREVER ? Number.POSITIVE_INFINITY : shared.skipUntil
      reasons.set(
        account.index,
        `${shared.verdict ?? "skipped"} (seen by another opencode process) until ${
          account.skipUntil === Number.POSITIVE_INFINITY ? "a new login" : new Date(account.skipUntil).toISOString()
        }`
      )
    }
  }

  const send = (input: string | URL, init: RequestInit, body: RequestInit["body"], account: Account.Account, access: string | null) => {
    const headers = new Headers(init.headers)
    headers.delete("x-api-key")
    headers.delete("authorization")
    if (account.login.type === "api") {
      headers.set("x-api-key", account.login.key)
    } else {
      headers.set("authorization", `Bearer ${access ?? ""}`)
      headers.set("anthropic-beta", mergeBeta(headers.get("anthropic-beta"), settings.oauthBeta))
    }
    headers.set("user-agent", userAgent)
    return fetch(input, { ...init, headers, body: body ?? null })
  }

  const ensure = (account: Account.Account, rejected?: Redacted.Redacted<string>) =>
    runtime.runPromise(Effect.either(account.coordinator!.ensure(rejected ? { rejected } : {})))

  const skipAfterRefusal = async (account: Account.Account, c: C.Failure): Promise<Attempt> => {
    await skip(account, c, await runtime.runPromise(Account.refusedUntil(c, account.index, Date.now(), keys[account.index]!)))
    await saveBackoff()
    return { _tag: "Next", failure: c, status: statusFor(c) }
  }

  const inspect = (response: Response): Response => {
    if (!response.body || !(response.headers.get("content-type") ?? "").includes("text/event-stream")) return response
    const body = watchErrors(response.body, (block) => {
      const c = classify({
        endpoint: "messages",
        status: response.status,
        headers: { "content-type": "text/event-stream" },
        body: block,
        now: Date.now()
      })
      return c._tag === "Ok" ? null : new Error(c.message)
    })
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }

  const settle = async (
    account: Account.Account,
    response: Response,
    resend: () => Promise<Response>,
    signal: AbortSignal | null | undefined,
    waited = false
  ): Promise<Attempt> => {
    const usage = StatusCommand.usageFromHeaders(response.headers)
    StatusCommand.report({
      account: `#${account.index + 1}`,
      verdict: response.ok ? "ok" : `HTTP ${response.status}`,
      ...usage
    })
    try {
      forwarder?.forward(response.headers)
    } catch {
      // never the request's problem
    }
    const quota = {
      ...(usage.fiveHour === undefined ? {} : { fiveHour: usage.fiveHour }),
      ...(usage.sevenDay === undefined ? {} : { sevenDay: usage.sevenDay }),
      ...(usage.resetsAt === undefined ? {} : { resetsAt: usage.resetsAt })
    }
    if (response.ok) {
      // Not awaited: the response is not held up by the shared file.
      void record(account, { verdict: "Ok", skipUntil: null, blockedFingerprint: null, ...quota })
      return { _tag: "Served", response: inspect(response) }
    }
    const text = await response.text()
    const held = account.current()
    const c = classify({
      endpoint: "messages",
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: text,
      credential: held ? { scopes: held.scopes, expiresAt: held.expiresAt } : null,
      now: Date.now()
    })
    if (c._tag === "Ok") return { _tag: "Served", response: new Response(text, response) }
    const now = Date.now()
    if (c._tag === "RateLimited" && c.limitKind === "subscription_cap") {
      await skip(account, c, c.resetsAt ?? now + (c.retryAfterMs ?? CAP_FALLBACK_MS))
      return { _tag: "Next", failure: c, status: response.status }
    }
    if (c._tag === "OrgPolicyDenied" || c._tag === "ExtraUsageRequired") {
      await skip(account, c, c._tag === "OrgPolicyDenied" ? Number.POSITIVE_INFINITY : now + EXTRA_USAGE_SKIP_MS)
      return { _tag: "Next", failure: c, status: response.status }
    }
    if (
      !waited &&
      (response.status === 429 || response.status === 529) &&
      c.retryAfterMs !== null &&
      c.retryAfterMs <= cap
    ) {
      await sleep(c.retryAfterMs, signal)
      if (signal?.aborted) return { _tag: "Next", failure: c, status: response.status }
      return settle(account, await resend(), resend, signal, true)
    }
    return { _tag: "Served", response: errorResponse(c, response.status) }
  }

  const attempt = async (account: Account.Account, input: string | URL, init: RequestInit, body: RequestInit["body"]): Promise<Attempt> => {
    if (account.coordinator === null) {
      const resend = () => send(input, init, body, account, null)
      return settle(account, await resend(), resend, init.signal)
    }
    const ensured = await ensure(account)
    if (Either.isLeft(ensured)) return skipAfterRefusal(account, ensured.left)
    let token = ensured.right.tokens.accessToken
    let response = await send(input, init, body, account, Redacted.value(token))
    if (response.status === 401) {
      await response.body?.cancel()
      const again = await ensure(account, token)
      if (Either.isLeft(again)) return skipAfterRefusal(account, again.left)
      token = again.right.tokens.accessToken
      response = await send(input, init, body, account, Redacted.value(token))
    }
    const current = token
    return settle(account, response, () => send(input, init, body, account, Redacted.value(current)), init.signal)
  }

  return async (input, init = {}) => {
    // A stream body cannot be sent twice; retries and failover need it again.
    const body =
      init.body === undefined || init.body === null || typeof init.body === "string"
        ? init.body
        : await new Response(init.body).arrayBuffer()
    await start()
    await adopt()
    let first: { failure: C.Failure; status: number } | null = null
    const served = (account: Account.Account, response: Response) => {
      if (account.index !== active) {
        const from = active
        active = account.index
        const reason =
          account.index < from
            ? `account #${account.index + 1} is usable again`
            : (reasons.get(from) ?? reasons.get(account.index - 1) ?? "the previous account cannot serve requests")
        try {
          const r = options.onSwitch?.({ from, to: account.index, reason })
          if (r instanceof Promise) r.catch(() => undefined)
        } catch {
          // a notification must not fail the request
        }
      }
      return response
    }
    let tried = false
    for (const account of accounts) {
      if (Date.now() < account.skipUntil) {
        if (first === null && account.failure) first = { failure: account.failure, status: statusFor(account.failure) }
        continue
      }
      tried = true
      const result = await attempt(account, input, init, body)
      if (result._tag === "Served") return served(account, result.response)
      first ??= result
    }
    if (first === null && !tried && accounts.length > 0) {
      // Every account is skipped only on another process's word: ask the one that frees up first.
      const soonest = accounts.reduce((a, b) => (b.skipUntil < a.skipUntil ? b : a))
      const result = await attempt(soonest, input, init, body)
      if (result._tag === "Served") return served(soonest, result.response)
      first = result
    }
    if (first === null) throw new Error("tollgate: no account is configured for this request")
    return errorResponse(first.failure, first.status)
  }
}
