/**
 * The matrix rows for core's own building blocks — the classifier, the OAuth
 * client, the usage poller (OAuth client + backoff) and single-flight refresh —
 * until each adapter package adds its own row.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Backoff from "@tollgate/core/Backoff"
import * as Classification from "@tollgate/core/Classification"
import { classify } from "@tollgate/core/Classify"
import type { Endpoint } from "@tollgate/core/Endpoint"
import * as OAuthClient from "@tollgate/core/OAuthClient"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as RefreshCoordinator from "@tollgate/core/RefreshCoordinator"
import * as Scopes from "@tollgate/core/Scopes"
import * as Signing from "@tollgate/core/Signing"
import * as UsagePoller from "@tollgate/core/UsagePoller"
import { fingerprint } from "@tollgate/core/Credential"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type { Registration } from "../Matrix.js"
import type { ClassifierFactory } from "../suites/classifier.js"
import type { RuntimeFetchFactory } from "../suites/runtimeFetch.js"
import type { UsageSourceFactory } from "../suites/usageSource.js"

const http = ManagedRuntime.make(NodeHttpClient.layerUndici)

const withClient = <A, E>(
  settings: OAuthConfig.Settings,
  effect: Effect.Effect<A, E, OAuthClient.OAuthClient | HttpClient.HttpClient>
): Promise<A> =>
  http.runPromise(
    effect.pipe(Effect.provide(OAuthClient.layer.pipe(Layer.provide(Layer.succeed(OAuthConfig.OAuthConfig, settings)))))
  )

const settingsFor = (url: string, timeoutMs?: number) =>
  OAuthConfig.make({ apiBaseUrl: url, oauthBaseUrl: url, ...(timeoutMs ? { timeoutMs } : {}) })

/**
 * A clock frozen at a simulated instant (sleeping still takes real time):
 * how usage-source adapters follow the suite's simulated day.
 *
 * @since 0.1.0
 */
export const frozenClock = (now: number): Clock.Clock => {
  const real = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.succeed(now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.succeed(BigInt(now) * 1_000_000n),
    sleep: (duration) => real.sleep(duration)
  }
}

/** Plain fetch, then the classifier: the verdict for any endpoint. @since 0.1.0 */
export const classifier: ClassifierFactory = () => ({
  call: async (endpoint, { sim, login, timeoutMs }) => {
    const ua = OAuthConfig.defaults.userAgent[endpoint]
    const bearer = Signing.oauthHeaders(login.accessToken, OAuthConfig.defaults.oauthBeta)
    const requests: Record<Endpoint, [string, RequestInit]> = {
      token: [
        "/v1/oauth/token",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            grant_type: "refresh_token",
            refresh_token: login.refreshToken,
            client_id: OAuthConfig.defaults.clientId
          })
        }
      ],
      usage: ["/api/oauth/usage", { headers: bearer }],
      profile: ["/api/oauth/profile", { headers: bearer }],
      messages: [
        "/v1/messages",
        {
          method: "POST",
          headers: { ...bearer, "content-type": "application/json" },
          body: JSON.stringify({
            model: "claude-sonnet-4-5",
            max_tokens: 16,
            messages: [{ role: "user", content: "hi" }]
          })
        }
      ]
    }
    const [path, init] = requests[endpoint]
    const credential = { scopes: login.scopes, expiresAt: login.expiresAt }
    try {
      const response = await fetch(`${sim.url}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), "user-agent": ua },
        signal: AbortSignal.timeout(timeoutMs)
      })
      const body = new Uint8Array(await response.arrayBuffer())
      const headers = Object.fromEntries(response.headers)
      return Classification.toJson(
        classify({ endpoint, status: response.status, headers, body, credential, now: Date.now() })
      ) as never
    } catch (error) {
      const reason =
        error instanceof Error && /timeout|abort/i.test(`${error.name} ${error.message}`)
          ? "timeout"
          : /ECONNRESET|socket|terminated/i.test(String((error as { cause?: unknown }).cause ?? error))
            ? "reset"
            : "other"
      return Classification.toJson(
        classify({ endpoint, status: null, transportError: reason, credential, now: Date.now() })
      ) as never
    }
  }
})

/** The OAuth client's own methods: refresh, usage, profile. @since 0.1.0 */
export const oauthClient: ClassifierFactory = () => ({
  call: (endpoint, { sim, login, timeoutMs }) =>
    withClient(
      settingsFor(sim.url, timeoutMs),
      Effect.gen(function* () {
        const client = yield* OAuthClient.OAuthClient
        const accessToken = Redacted.make(login.accessToken)
        const credential = {
          scopes: login.scopes ? Scopes.known(login.scopes) : Scopes.unknown,
          expiresAt: login.expiresAt,
          fingerprint: fingerprint(login.accessToken)
        }
        const ok = (status: number) =>
          new Classification.Ok({
            endpoint,
            status,
            action: "none",
            retryable: false,
            retryAfterMs: null,
            requestId: null
          })
        switch (endpoint) {
          case "token":
            return yield* client
              .refresh({ refreshToken: Redacted.make(login.refreshToken ?? ""), scopes: login.scopes })
              .pipe(Effect.as(ok(200)))
          case "usage":
            return yield* client.usage({ accessToken, credential }).pipe(Effect.as(ok(200)))
          case "profile":
            return yield* client.profile({ accessToken, credential }).pipe(Effect.as(ok(200)))
          case "messages":
            return yield* Effect.die(new Error("the OAuth client does not send messages"))
        }
      }).pipe(
        Effect.catchAll((c) => Effect.succeed(c)),
        Effect.map((c) => Classification.toJson(c) as never)
      )
    )
})

/** UsagePoller over the OAuth client and Backoff, on the suite's simulated clock. @since 0.1.0 */
export const usagePoller: UsageSourceFactory = async ({ sim, login }) => {
  const backoff = await Effect.runPromise(Backoff.make())
  const poller = await Effect.runPromise(
    UsagePoller.make({
      account: "primary",
      load: Effect.sync(() => {
        const current = login()
        return {
          accessToken: Redacted.make(current.accessToken),
          snapshot: {
            scopes: current.scopes ? Scopes.known(current.scopes) : Scopes.unknown,
            expiresAt: current.expiresAt,
            fingerprint: fingerprint(current.accessToken)
          }
        }
      })
    })
  )
  return {
    ask: async (now) => {
      const view = await withClient(
        settingsFor(sim.url),
        poller.poll.pipe(Effect.provideService(Backoff.Backoff, backoff), Effect.withClock(frozenClock(now)))
      )
      return {
        verdict: view.verdict,
        fiveHour: view.usage?.five_hour?.utilization ?? null,
        sevenDay: view.usage?.seven_day?.utilization ?? null
      }
    }
  }
}

interface Held extends RefreshCoordinator.Tokens {
  readonly scopes: ReadonlyArray<string> | null
}

/**
 * A minimal request path from core alone: single-flight refresh ahead of
 * expiry, one forced refresh and retry on 401. Everything else is the
 * runtime adapter's job.
 *
 * @since 0.1.0
 */
export const refreshSingleFlight: RuntimeFetchFactory = async ({ sim, logins }) => {
  const first = logins[0]!
  const settings = settingsFor(sim.url)
  const store = await Effect.runPromise(
    Ref.make<Held>({
      accessToken: Redacted.make(first.accessToken),
      refreshToken: first.refreshToken ? Redacted.make(first.refreshToken) : null,
      expiresAt: first.expiresAt,
      scopes: first.scopes
    })
  )
  const coordinator = await withClient(
    settings,
    Effect.gen(function* () {
      const client = yield* OAuthClient.OAuthClient
      return yield* RefreshCoordinator.make({
        load: Ref.get(store),
        refresh: (current: Held) =>
          current.refreshToken === null
            ? Effect.fail(new Error("no refresh token"))
            : client.refresh({ refreshToken: current.refreshToken, scopes: current.scopes }).pipe(
                Effect.map(
                  (grant): Held => ({
                    accessToken: grant.accessToken,
                    refreshToken: grant.refreshToken ?? current.refreshToken,
                    expiresAt: grant.expiresAt,
                    scopes: grant.scopes ?? current.scopes
                  })
                ),
                Effect.tap((next) => Ref.set(store, next)),
                Effect.mapError((c) => new Error(c.message))
              )
      })
    })
  )
  const attempt = async (input: string, init: RequestInit, rejected?: Redacted.Redacted<string>) => {
    const { tokens } = await Effect.runPromise(coordinator.ensure(rejected ? { rejected } : {}))
    const headers = new Headers(init.headers)
    headers.delete("x-api-key")
    const signed = Signing.oauthHeaders(
      Redacted.value(tokens.accessToken),
      OAuthConfig.defaults.oauthBeta,
      headers.get("anthropic-beta")
    )
    for (const [name, value] of Object.entries(signed)) headers.set(name, value)
    return { response: await fetch(input, { ...init, headers }), token: tokens.accessToken }
  }
  return {
    fetch: async (input, init) => {
      const { response, token } = await attempt(input, init)
      // core's verdict decides: one refresh and one resend only when it says `refresh`.
      const text = await response.text()
      const verdict = classify({
        endpoint: "messages",
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: text,
        now: Date.now()
      })
      if (verdict.action !== "refresh")
        return new Response(text, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers
        })
      return (await attempt(input, init, token)).response
    }
  }
}

/**
 * Core's rows in the `tollgate conformance` matrix.
 *
 * @since 0.1.0
 */
export const registrations: ReadonlyArray<Registration> = [
  {
    adapter: "core: classifier",
    suite: "classifier",
    factory: classifier,
    capabilities: { token: true, usage: true, profile: true, messages: true, deadline: true }
  },
  {
    adapter: "core: OAuth client",
    suite: "classifier",
    factory: oauthClient,
    capabilities: { token: true, usage: true, profile: true, deadline: true }
  },
  {
    adapter: "core: usage poller (OAuth client + backoff)",
    suite: "usage-source",
    factory: usagePoller,
    capabilities: { scopeCheck: true, staleCheck: true, followsLogin: true }
  },
  {
    adapter: "core: refresh single-flight",
    suite: "runtime-fetch",
    factory: refreshSingleFlight,
    capabilities: { singleFlight: true, retryOn401: true }
  }
]
