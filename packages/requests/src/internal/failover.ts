/**
 * Failover across accounts: each request goes to the first account that is
 * not skipped; an account that cannot serve it is skipped (in this process
 * and, through the shared state file, in every other) and the next one is
 * tried; when none can, opencode gets the first failure's verdict in the
 * form that makes it retry only what a retry can fix. Every state write is
 * awaited before the response is handed back: a promise left running dies
 * with the process.
 */
import * as Backoff from "@tollgate/core/Backoff"
import type * as C from "@tollgate/core/Classification"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import type * as AccountStore from "../AccountStore.js"
import type * as DaemonForwarder from "../DaemonForwarder.js"
import * as StatusCommand from "../StatusCommand.js"
import * as Account from "./account.js"
import * as AccountKey from "./accountKey.js"
import * as AccountState from "./accountState.js"
import { attempt, type Context, skipUntil } from "./attempt.js"
import { errorResponse } from "./envelope.js"
import { buffer, type Signer } from "./signing.js"

export interface SwitchEvent {
  readonly from: number
  readonly to: number
  readonly reason: string
}

export interface Options {
  readonly accounts: ReadonlyArray<Account.Account>
  /** Each account's key in the shared state. */
  readonly keys: ReadonlyArray<string>
  readonly runtime: ManagedRuntime.ManagedRuntime<Account.Requirements, never>
  readonly signer: Signer
  readonly waitCapMs: number
  readonly store: AccountStore.AccountStore | null
  readonly forwarder: DaemonForwarder.Forwarder | null
  readonly onSwitch: ((event: SwitchEvent) => unknown) | undefined
  /** The answer when no account can serve; default opencode's ({@link errorResponse}). */
  readonly errorResponse?: ErrorResponse | undefined
  /**
   * An `event: error` in a stream: `raise` ends the stream with core's message (opencode); `pass` passes it on,
   * after judging a stream that opens with one like an error answer (the next account, or core's message).
   */
  readonly streamErrors?: "raise" | "pass" | undefined

  /**
   * Read the shared state at most this often, and write a healthy answer on
   * an account whose last recorded answer was healthy at most this often
   * (any other verdict is written at once). 0 (default): every request.
   */
  readonly stateEveryMs?: number | undefined
  /** With `streamErrors: "pass"`: the `event: error` block sent instead of the upstream's (default: the upstream's). */
  readonly errorEvent?: ((failure: C.Failure) => string) | undefined
}

/** The response carrying a verdict no account could serve past. */
export type ErrorResponse = (
  failure: C.Failure,
  options: { readonly now: number; readonly waitCapMs: number }
) => Response

const quiet = (p: Promise<unknown>): Promise<void> =>
  p.then(
    () => undefined,
    () => undefined
  )

const label = (c: C.Classification): StatusCommand.Observed => (c._tag === "Ok" ? "ok" : c._tag)

export const make = (options: Options) => {
  const { accounts, keys, runtime, store } = options
  // Why each account was last skipped, for the switch event.
  const reasons = new Map<number, string>()
  let active = 0

  // Restore the shared token backoff once, before the first request.
  const migrate = async () => {
    for (const account of accounts) {
      const legacy = AccountKey.legacyKey(account.login, account.index)
      if (legacy !== null && store !== null) await store.rekey(legacy, keys[account.index]!).catch(() => undefined)
    }
  }
  let ready: Promise<void> | null = null
  const start = () =>
    (ready ??=
      store === null
        ? Promise.resolve()
        : quiet(
            // State an older version kept under a refresh token's fingerprint moves to the key that survives refreshes.
            migrate().then(() =>
              store
                .read()
                .then((file) => runtime.runPromise(Effect.flatMap(Backoff.Backoff, (b) => b.restore(file.backoff))))
            )
          ))
  const saveBackoff = () =>
    store === null
      ? Promise.resolve()
      : quiet(
          runtime
            .runPromise(Effect.flatMap(Backoff.Backoff, (b) => b.snapshot))
            .then((state) => store.mergeBackoff(state))
        )
  const record = (account: Account.Account, patch: Partial<Omit<AccountStore.AccountState, "updatedAt">>) =>
    store === null ? Promise.resolve() : quiet(store.update(keys[account.index]!, patch))
  const skipPatch = (account: Account.Account, c: C.Failure, until: number) => {
    account.skipUntil = until
    account.failure = c
    reasons.set(account.index, c.message)
    return {
      verdict: c._tag,
      skipUntil: until,
      // "Until a new login": the skip holds only while this very credential is the one configured.
      blockedFingerprint: until === Number.POSITIVE_INFINITY ? AccountKey.credentialFingerprint(account.login) : null
    }
  }
  // Under load the shared file is read and an unchanged healthy answer written at most this often.
  const stateEveryMs = options.stateEveryMs ?? 0
  let adoptedAt = Number.NEGATIVE_INFINITY
  const okRecordedAt = new Map<number, number>()
  // What other processes (or an earlier run) learned: the later skip wins.
  const adopt = async () => {
    if (store === null) return
    if (stateEveryMs > 0) {
      const now = Date.now()
      if (now - adoptedAt < stateEveryMs) return
      adoptedAt = now
    }
    const file = await store.read().catch(() => null)
    if (file === null) return
    const now = Date.now()
    for (const account of accounts) {
      const shared = file.accounts[keys[account.index]!]
      if (!shared || shared.skipUntil === null || shared.skipUntil <= now || shared.skipUntil <= account.skipUntil)
        continue
      // A skip for good recorded against another credential: the user has logged in again since.
      if (
        shared.skipUntil >= AccountState.FOREVER &&
        shared.blockedFingerprint !== null &&
        shared.blockedFingerprint !== AccountKey.credentialFingerprint(account.login)
      )
        continue
      account.skipUntil = shared.skipUntil >= AccountState.FOREVER ? Number.POSITIVE_INFINITY : shared.skipUntil
      reasons.set(
        account.index,
        `${shared.verdict ?? "skipped"} (seen by another opencode process) until ${
          account.skipUntil === Number.POSITIVE_INFINITY ? "a new login" : new Date(account.skipUntil).toISOString()
        }`
      )
    }
  }

  const answerWith = options.errorResponse ?? errorResponse
  const context: Context = {
    signer: options.signer,
    waitCapMs: options.waitCapMs,
    answer: (c, now) => answerWith(c, { now, waitCapMs: options.waitCapMs }),
    // A runtime that is handed the events as they came gets a stream that opens with an error as an error answer instead.
    peekStreams: options.streamErrors === "pass",
    streamError: (account, c, headers) => {
      // Recorded like any other answer: a limit announced mid-stream keeps the account out as one in a head would.
      void context.settled(account, c, headers, skipUntil(c, Date.now()))
      StatusCommand.report({ account: `#${account.index + 1}`, verdict: label(c) })
      return options.streamErrors === "pass" ? (options.errorEvent?.(c) ?? null) : new Error(c.message)
    },
    ensure: (account, rejected) => {
      // The coordinator's own rule, without an effect run, for a token held in memory and good past the skew.
      const fresh = rejected === undefined ? account.coordinator!.fresh(Date.now()) : null
      if (fresh !== null) return Promise.resolve(Either.right({ tokens: fresh }))
      return runtime.runPromise(Effect.either(account.coordinator!.ensure(rejected ? { rejected } : {})))
    },
    refused: async (account, c) => {
      const until = await runtime.runPromise(Account.refusedUntil(c, account.index, Date.now(), keys[account.index]!))
      StatusCommand.report({ account: `#${account.index + 1}`, verdict: label(c) })
      await record(account, skipPatch(account, c, until))
      await saveBackoff()
    },
    observed: (account, verdict, headers) => {
      StatusCommand.report({
        account: `#${account.index + 1}`,
        verdict: label(verdict),
        ...StatusCommand.usageFromHeaders(headers)
      })
      try {
        options.forwarder?.forward(headers)
      } catch {
        // never the request's problem
      }
    },
    settled: (account, verdict, headers, until) => {
      const quota = StatusCommand.usageFromHeaders(headers)
      if (verdict._tag === "Ok" && stateEveryMs > 0) {
        const now = Date.now()
        const last = okRecordedAt.get(account.index)
        if (last !== undefined && now - last < stateEveryMs) return Promise.resolve()
        okRecordedAt.set(account.index, now)
      } else okRecordedAt.delete(account.index)
      if (verdict._tag !== "Ok" && until !== null)
        return record(account, { ...quota, ...skipPatch(account, verdict, until) })
      return record(account, {
        ...quota,
        verdict: verdict._tag,
        ...(verdict._tag === "Ok" ? { skipUntil: null, blockedFingerprint: null } : {})
      })
    }
  }

  const served = (index: number, response: Response): Response => {
    if (index === active) return response
    const from = active
    active = index
    const reason =
      index < from
        ? `account #${index + 1} is usable again`
        : (reasons.get(from) ?? reasons.get(index - 1) ?? "the previous account cannot serve requests")
    try {
      const r = options.onSwitch?.({ from, to: index, reason })
      if (r instanceof Promise) r.catch(() => undefined)
    } catch {
      // a notification must not fail the request
    }
    return response
  }

  return async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const request = await buffer(input, init)
    await start()
    await adopt()
    let first: C.Failure | null = null
    let tried = false
    for (const account of accounts) {
      if (Date.now() < account.skipUntil) {
        first ??= account.failure
        continue
      }
      tried = true
      const now = Date.now()
      const others = accounts.some((other) => other.index > account.index && now >= other.skipUntil)
      const outcome = await attempt(context, account, request, others)
      if (outcome._tag === "Served") return served(account.index, outcome.response)
      first ??= outcome.failure
    }
    if (first === null && !tried && accounts.length > 0) {
      // Every account is skipped only on another process's word: ask the one that frees up first.
      const soonest = accounts.reduce((a, b) => (b.skipUntil < a.skipUntil ? b : a))
      const outcome = await attempt(context, soonest, request, false)
      if (outcome._tag === "Served") return served(soonest.index, outcome.response)
      first = outcome.failure
    }
    if (first === null) throw new Error("tollgate: no account is configured for this request")
    return answerWith(first, { now: Date.now(), waitCapMs: options.waitCapMs })
  }
}
