/**
 * The daemon's quota logic as the conformance suites drive it — a usage
 * source on the suite's simulated clock — and its row in the matrix.
 *
 * @since 0.1.0
 */
import { NodeHttpClient } from "@effect/platform-node"
import type { Login as SuiteLogin, Matrix, UsageSourceSuite } from "@tollgate/conformance"
import { frozenClock } from "@tollgate/conformance/adapters/core"
import { Backoff, Credential, OAuthClient, OAuthConfig, Scopes, type UsagePoller } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import type * as Protocol from "./Protocol.js"
import * as Quota from "./Quota.js"

/**
 * A suite's login as core's `UsagePoller.Login` (token redacted, scopes known
 * or unknown, fingerprint), or `null` for none: the form `Quota.make` reads
 * its login in.
 *
 * @since 0.1.0
 */
export const toLogin = (login: SuiteLogin.Login | null): UsagePoller.Login | null =>
  login === null
    ? null
    : {
        accessToken: Redacted.make(login.accessToken),
        snapshot: {
          scopes: login.scopes ? Scopes.known(login.scopes) : Scopes.unknown,
          expiresAt: login.expiresAt,
          fingerprint: Credential.fingerprint(login.accessToken)
        }
      }

const http = ManagedRuntime.make(NodeHttpClient.layerUndici)

/**
 * What {@link harness} returns: the quota service and its backoff, plus
 * `ask` and `ingest`, which run them at a given simulated instant.
 *
 * @since 0.1.0
 */
export interface Harness {
  readonly quota: Quota.QuotaService<never>
  readonly backoff: Backoff.Backoff["Type"]
  readonly ask: (now: number, rateLimits?: Protocol.Windows) => Promise<Protocol.Quota>
  readonly ingest: (now: number, headers: Record<string, string>) => Promise<void>
}

/** The quota service against a simulator URL, asked at simulated instants. @since 0.1.0 */
export const harness = async (
  url: string,
  login: () => SuiteLogin.Login | null,
  initial?: Quota.Persisted
): Promise<Harness> => {
  const backoff = await Effect.runPromise(Backoff.make())
  const quota = await Effect.runPromise(
    Quota.make({ login: Effect.sync(() => toLogin(login())), initial }).pipe(
      Effect.provideService(Backoff.Backoff, backoff)
    )
  )
  const client = OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: url, oauthBaseUrl: url })))
  return {
    quota,
    backoff,
    ask: (now, rateLimits) =>
      http.runPromise(quota.status(rateLimits).pipe(Effect.withClock(frozenClock(now)), Effect.provide(client))),
    ingest: (now, headers) => Effect.runPromise(quota.ingestHeaders(headers).pipe(Effect.withClock(frozenClock(now))))
  }
}

/** The daemon's quota as the usage-source suite sees it. @since 0.1.0 */
export const usageSource: UsageSourceSuite.UsageSourceFactory = async ({ sim, login }) => {
  const h = await harness(sim.url, login)
  return {
    ask: async (now) => {
      const q = await h.ask(now)
      return {
        verdict: q.verdict,
        fiveHour: q.windows.fiveHour?.usedPercent ?? null,
        sevenDay: q.windows.sevenDay?.usedPercent ?? null
      }
    }
  }
}

/**
 * The daemon's row in the `tollgate conformance` matrix.
 *
 * @since 0.1.0
 */
export const registrations: ReadonlyArray<Matrix.Registration> = [
  {
    adapter: "daemon: quota (statusline, headers, usage endpoint)",
    suite: "usage-source",
    factory: usageSource,
    capabilities: { scopeCheck: true, staleCheck: true, followsLogin: true }
  }
]
