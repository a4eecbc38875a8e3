/**
 * runtimeFetchSuite: the request path of a runtime (the fetch an opencode
 * plugin hands the AI SDK) refreshes safely, retries only what can succeed,
 * and tells the user what is wrong at once.
 *
 * @since 0.1.0
 */
import { fingerprint } from "@tollgate/core/Credential"
import { find } from "../Catalog.js"
import * as Login from "../Login.js"
import type { Scenario } from "../Scenario.js"
import type { Simulator } from "../Simulator.js"
import { type Case, type Context, demand, type Suite } from "../Suite.js"

/** What each case gives the adapter: a running simulator and the logins to sign with. @since 0.1.0 */
export interface Target {
  readonly sim: Simulator
  /** The logins in preference order; most cases use one. */
  readonly logins: ReadonlyArray<Login.Login>
}

/**
 * The adapter's fetch, called the way the Anthropic AI SDK calls it. Upstream
 * failures surface either as a rejected promise whose `message` explains, or
 * as a non-2xx response.
 *
 * @since 0.1.0
 */
export interface RuntimeFetchAdapter {
  readonly fetch: (input: string, init: RequestInit) => Promise<Response>
}

/** Makes a runtime-fetch adapter for one case's simulator and logins. @since 0.1.0 */
export type RuntimeFetchFactory = (target: Target) => RuntimeFetchAdapter | Promise<RuntimeFetchAdapter>

interface Outcome {
  readonly ok: boolean
  readonly status: number | null
  /** The error message or the response body. */
  readonly text: string
  readonly ms: number
}

const send = async (adapter: RuntimeFetchAdapter, sim: Simulator, stream = false): Promise<Outcome> => {
  const started = performance.now()
  try {
    const response = await adapter.fetch(`${sim.url}/v1/messages`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": "",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "fine-grained-tool-streaming-2025-05-14"
      },
      body: JSON.stringify({
        model: "claude-sonnet-4-5",
        max_tokens: 64,
        stream,
        messages: [{ role: "user", content: "hi" }]
      })
    })
    // An adapter surfaces an error inside a 200 stream by failing the body: a
    // stream that merely carries `event: error` to the end was not detected.
    const text = await response.text()
    return { ok: response.ok, status: response.status, text, ms: performance.now() - started }
  } catch (error) {
    return {
      ok: false,
      status: null,
      text: error instanceof Error ? error.message : String(error),
      ms: performance.now() - started
    }
  }
}

const setup = async (factory: RuntimeFetchFactory, context: Context, scenario: Scenario | string, extra = 0) => {
  const sim = await context.simulator({ scenario })
  const logins = [Login.fromIssued(sim.account)]
  for (let i = 0; i < extra; i++) logins.push(Login.fromIssued(sim.seed()))
  return { sim, logins, adapter: await factory({ sim, logins }) }
}

const envelope = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message } })

const cases: ReadonlyArray<Case<RuntimeFetchFactory, Capability>> = [
  {
    name: "50 concurrent requests with an expiring token make exactly one refresh",
    scenario: "expired-access-token",
    requires: ["singleFlight"],
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "expired-access-token")
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => send(adapter, sim)))
      demand(
        outcomes.every((o) => o.ok),
        `every request succeeds (${outcomes.filter((o) => !o.ok).length} failed: ${outcomes.find((o) => !o.ok)?.text ?? ""})`
      )
      demand(sim.count("token") === 1, `exactly one refresh (saw ${sim.count("token")})`)
    }
  },
  {
    name: "a 401 gets one forced refresh and one retry, which succeeds",
    scenario: "happy-path, messages answers 401 once",
    requires: ["retryOn401"],
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "happy-path")
      sim.script("messages", {
        status: 401,
        headers: { "content-type": "application/json" },
        body: envelope(
          "authentication_error",
          "OAuth token has expired. Please obtain a new token or refresh your existing token."
        )
      })
      const outcome = await send(adapter, sim)
      demand(outcome.ok, `the retried request succeeds (${outcome.text.slice(0, 200)})`)
      demand(sim.count("token") === 1, `one refresh (saw ${sim.count("token")})`)
      demand(sim.count("messages") === 2, `one retry (saw ${sim.count("messages")} requests)`)
    }
  },
  {
    name: "a 403 org-policy answer from the token endpoint arms the refresh backoff only: no refresh loop",
    scenario: "org-policy-403-token with an expired token",
    requires: ["refreshBackoff"],
    run: async (factory, context) => {
      const scenario: Scenario = { ...find("org-policy-403-token"), account: { expiresInMs: -60_000 } }
      const { sim, adapter } = await setup(factory, context, scenario)
      const outcomes = [await send(adapter, sim), await send(adapter, sim), await send(adapter, sim)]
      demand(
        outcomes.every((o) => !o.ok),
        "every request fails while the login cannot be refreshed"
      )
      demand(
        /organi[sz]ation/i.test(outcomes[0]!.text),
        `the user is told the organization forbids OAuth (${outcomes[0]!.text.slice(0, 200)})`
      )
      demand(sim.count("token") === 1, `the token endpoint is asked once, not per request (saw ${sim.count("token")})`)
    }
  },
  {
    name: "a 429 with a long Retry-After surfaces at once and says when the limit resets",
    scenario: "throttle-429 with Retry-After: 3600",
    requires: ["retryAfter"],
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "happy-path")
      sim.script("messages", {
        status: 429,
        headers: { "content-type": "application/json", "retry-after": "3600" },
        body: envelope("rate_limit_error", "Rate limited. Please try again later.")
      })
      const outcome = await send(adapter, sim)
      demand(!outcome.ok, "the request fails")
      demand(outcome.ms < 3_000, `it fails at once (took ${Math.round(outcome.ms)} ms)`)
      demand(sim.count("messages") === 1, "it is not retried against a long Retry-After")
      demand(
        /\d{2}:\d{2}|3600 s|60 min|1 h/.test(outcome.text),
        `the message says when it resets (${outcome.text.slice(0, 200)})`
      )
    }
  },
  {
    name: "a rate_limit_error inside a 200 SSE stream is detected",
    scenario: "sse-rate-limit",
    requires: ["sse"],
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "sse-rate-limit")
      const outcome = await send(adapter, sim, true)
      // A stream handed on as it came must at least replace Anthropic's words with the explanation:
      // a client that reads the events (an SDK raises `event: error`) then tells the user what it is.
      const upstreamWords = "Rate limited. Please try again later."
      const explained = outcome.ok && /event: error/.test(outcome.text) && !outcome.text.includes(upstreamWords)
      demand(
        !outcome.ok || explained,
        "the stream's error is surfaced (the body fails, the status is not 2xx, or its error event carries the explanation instead of Anthropic's words), not passed on as a success"
      )
      demand(
        /rate limit|throttl/i.test(outcome.text),
        `the user is told it is a rate limit (${outcome.text.slice(0, 200)})`
      )
    }
  },
  {
    name: "a subscription cap moves the request to the second account, and back when it resets",
    scenario: "subscription-cap-5h on the first account",
    requires: ["multiAccount"],
    run: async (factory, context) => {
      const { sim, logins, adapter } = await setup(factory, context, "happy-path", 1)
      sim.script("messages", {
        status: 429,
        headers: {
          "content-type": "application/json",
          "anthropic-ratelimit-unified-status": "rejected",
          "anthropic-ratelimit-unified-representative-claim": "five_hour",
          "anthropic-ratelimit-unified-reset": "{{epoch-s:+2}}"
        },
        body: envelope("rate_limit_error", "This request would exceed your account's rate limit.")
      })
      const first = await send(adapter, sim)
      demand(first.ok, `served by the second account (${first.text.slice(0, 200)})`)
      const served = sim.log.filter((r) => r.route === "messages").at(-1)!
      demand(served.bearer === fingerprint(logins[1]!.accessToken), "the retry used the second account")
      await new Promise((resolve) => setTimeout(resolve, 2_600))
      const later = await send(adapter, sim)
      demand(later.ok, "the request after the reset succeeds")
      const back = sim.log.filter((r) => r.route === "messages").at(-1)!
      demand(back.bearer === fingerprint(logins[0]!.accessToken), "after the reset the first account serves again")
    }
  }
]

/** What each capability of this suite means; a case names the ones it needs. @since 0.2.0 */
export const capabilities = {
  singleFlight: "shares one refresh among concurrent requests",
  retryOn401: "refreshes and retries once on a 401",
  refreshBackoff: "backs off the token endpoint after a refused refresh",
  retryAfter: "honours Retry-After up to a cap and surfaces longer waits",
  sse: "inspects SSE streams for embedded errors",
  multiAccount: "fails over between accounts"
} as const

/** A capability an adapter of this suite may declare. @since 0.2.0 */
export type Capability = keyof typeof capabilities

/** The runtime-fetch suite: its cases and the capabilities they may need. @since 0.1.0 */
export const suite: Suite<RuntimeFetchFactory, Capability> = {
  name: "runtime-fetch",
  capabilities,
  cases
}
