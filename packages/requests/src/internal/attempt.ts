/**
 * One request on one account: sign, send, classify, then do what the
 * verdict's `action` says — refresh once and resend, wait out a short wait
 * and resend once (when no other account can serve), or give the account up (skipped until the verdict says it
 * can serve again) so the next one is tried. No status code or header is
 * read here: core's verdict decides.
 */
import type * as C from "@tollgate/core/Classification"
import { classify, isEventStream as eventStream } from "@tollgate/core/Classify"
import type * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Account from "./account.js"
import { waitMs } from "./envelope.js"
import { type Outgoing, send, type Signer } from "./signing.js"
import { isErrorBlock, peekFirstBlock, rewriteErrors, watchErrors } from "./sse.js"

const isEventStream = (response: Response): boolean => eventStream(response.headers.get("content-type"))

/** What the attempt needs from the failover around it. */
export interface Context {
  readonly signer: Signer
  /** The longest wait waited out here before one resend. */
  readonly waitCapMs: number
  /** The account's access token, refreshed when `rejected` is the one held. */
  readonly ensure: (
    account: Account.Account,
    rejected?: Redacted.Redacted<string>
  ) => Promise<Either.Either<{ readonly tokens: { readonly accessToken: Redacted.Redacted<string> } }, C.Failure>>
  /** A refresh was refused: the account is out until the token endpoint's backoff ends. Awaited. */
  readonly refused: (account: Account.Account, failure: C.Failure) => Promise<void>
  /** Every upstream answer, as it arrives (status registry, daemon). */
  readonly observed: (account: Account.Account, verdict: C.Classification, headers: Headers) => void
  /** The outcome for the shared state (`skipUntil` set when the account is given up); awaited, never fails. */
  readonly settled: (
    account: Account.Account,
    verdict: C.Classification,
    headers: Headers,
    skipUntil: number | null
  ) => Promise<void>
  /** The answer for a verdict no account could serve past (the runtime's form of Anthropic's error envelope). */
  readonly answer: (failure: C.Failure, now: number) => Response
  /**
   * An `event: error` inside a stream that began well, with its verdict: the
   * error to end the stream with, the event block to pass on instead
   * (with {@link Context.peekStreams}), or `null` to pass it on as it came.
   */
  readonly streamError: (account: Account.Account, verdict: C.Failure, headers: Headers) => Error | string | null
  /** Whether a stream's first event is read before it is answered and later errors passed on (see {@link judge}). */
  readonly peekStreams: boolean
}

/** `Served`: hand this to opencode. `Failed`: this account cannot serve it; try the next. */
export type Outcome =
  | { readonly _tag: "Served"; readonly response: Response }
  | { readonly _tag: "Failed"; readonly failure: C.Failure }

// An org that forbids OAuth will not change its mind mid-session; extra usage might be enabled within the hour.
const EXTRA_USAGE_SKIP_MS = 60 * 60_000
// A wait whose end is unknown (a cap without a reset time): look again after a while.
const UNKNOWN_WAIT_MS = 5 * 60_000

/** Until when a verdict that gives the account up keeps it out of rotation; `null`: it does not. */
export const skipUntil = (c: C.Failure, now: number): number | null => {
  switch (c.action) {
    case "wait":
      return now + (waitMs(c, now) ?? UNKNOWN_WAIT_MS)
    case "switch_account":
      return c._tag === "OrgPolicyDenied" ? Number.POSITIVE_INFINITY : now + EXTRA_USAGE_SKIP_MS
    case "reauthenticate":
    case "skip_endpoint":
      return Number.POSITIVE_INFINITY
    default:
      return null
  }
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

const verdictOf = (response: Response, body: string | Uint8Array | null, held: Account.Held | null): C.Classification =>
  classify({
    endpoint: "messages",
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body,
    credential: held ? { scopes: held.scopes, expiresAt: held.expiresAt } : null,
    now: Date.now()
  })

/**
 * The verdict on a response and the response to pass on. An event stream is
 * judged on its head first: only a stream that began well is `Ok` without a
 * body, and it is passed on as it streams, an `event: error` in it handed to
 * `onError` with its verdict (by default it becomes the stream's error, with
 * core's message). Anything else is read whole and judged once.
 */
export const judge = async (
  response: Response,
  held: Account.Held | null,
  onError: (verdict: C.Failure) => Error | string | null = (c) => new Error(c.message),
  /**
   * Read the first event before answering (a stream that opens with
   * `event: error` is judged as a failure), and pass a later error event on
   * as `onError`'s text instead of ending the stream.
   */
  pass = false
): Promise<{ readonly verdict: C.Classification; readonly response: Response }> => {
  // Core needs the body of anything but an event stream to judge it (a 2xx answer must be JSON).
  const head = response.body !== null && isEventStream(response) ? verdictOf(response, null, held) : null
  if (head !== null && head._tag === "Ok" && response.body) {
    const failure = (block: string): C.Failure | null => {
      const c = verdictOf(response, block, null)
      return c._tag === "Ok" ? null : c
    }
    let body: ReadableStream<Uint8Array>
    if (pass) {
      const { first, stream } = await peekFirstBlock(response.body)
      if (first !== null && isErrorBlock(first)) {
        const text = await new Response(stream).text()
        return { verdict: verdictOf(response, text, held), response: new Response(text, response) }
      }
      body = rewriteErrors(stream, (block) => {
        const c = failure(block)
        const r = c === null ? null : onError(c)
        return typeof r === "string" ? r : null
      })
    } else {
      body = watchErrors(response.body, (block) => {
        const c = failure(block)
        const r = c === null ? null : onError(c)
        return r instanceof Error ? r : null
      })
    }
    return {
      verdict: head,
      response: new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers
      })
    }
  }
  const bytes = new Uint8Array(await response.arrayBuffer())
  return {
    verdict: verdictOf(response, bytes, held),
    response: new Response(bytes.length === 0 ? null : bytes, response)
  }
}

/**
 * Sends `request` on `account` and acts on the verdict. A short wait is
 * waited out here only when no other account can take the request
 * (`canFailOver`); otherwise the account sits it out and the next one serves.
 */
export const attempt = async (
  context: Context,
  account: Account.Account,
  request: Outgoing,
  canFailOver: boolean
): Promise<Outcome> => {
  let token: Redacted.Redacted<string> | null = null
  if (account.coordinator !== null) {
    const ensured = await context.ensure(account)
    if (ensured._tag === "Left") return refused(context, account, ensured.left)
    token = ensured.right.tokens.accessToken
  }
  let refreshed = false
  let waited = false
  for (;;) {
    const sent = await send(context.signer, request, account.login, token === null ? null : Redacted.value(token))
    const { response, verdict } = await judge(
      sent,
      account.current(),
      (c) => context.streamError(account, c, sent.headers),
      context.peekStreams
    )
    context.observed(account, verdict, response.headers)
    if (verdict._tag === "Ok") {
      await context.settled(account, verdict, response.headers, null)
      return { _tag: "Served", response }
    }
    if (verdict.action === "refresh" && account.coordinator !== null && token !== null && !refreshed) {
      refreshed = true
      const again = await context.ensure(account, token)
      if (again._tag === "Left") return refused(context, account, again.left)
      token = again.right.tokens.accessToken
      continue
    }
    const now = Date.now()
    const wait = waitMs(verdict, now)
    if (verdict.action === "wait" && !canFailOver && !waited && wait !== null && wait <= context.waitCapMs) {
      waited = true
      await sleep(wait, request.init.signal)
      if (request.init.signal?.aborted) return { _tag: "Failed", failure: verdict }
      continue
    }
    const until = skipUntil(verdict, now)
    await context.settled(account, verdict, response.headers, until)
    // What another account cannot fix either (a bad request, Anthropic overloaded) is answered at once.
    if (until === null && verdict.action !== "refresh") {
      return { _tag: "Served", response: context.answer(verdict, now) }
    }
    return { _tag: "Failed", failure: verdict }
  }
}

const refused = async (context: Context, account: Account.Account, failure: C.Failure): Promise<Outcome> => {
  await context.refused(account, failure)
  return { _tag: "Failed", failure }
}
