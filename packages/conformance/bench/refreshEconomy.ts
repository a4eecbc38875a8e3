// Token-endpoint calls when 50 requests find the access token expired at
// once: tollgate core's single-flight refresh (CoreAdapters.refreshSingleFlight,
// driven as the runtime-fetch suite drives it) against a client without
// single-flight, where every request refreshes on its own and all but one
// present a refresh token the first one already burned.
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as CoreAdapters from "../src/adapters/core.js"
import * as Login from "../src/Login.js"
import * as Simulator from "../src/Simulator.js"
import type { RuntimeFetchAdapter } from "../src/suites/runtimeFetch.js"

export const CONCURRENT = 50
const SCENARIO = "expired-access-token"

/** What one client did. */
export interface Outcome {
  readonly client: string
  readonly tokenCalls: number
  /** Token calls the simulator answered 200, i.e. rotations. */
  readonly rotations: number
  readonly invalidGrant: number
  /** Requests that ended with a usable login (messages answered, or a token granted). */
  readonly succeeded: number
}

export interface Result {
  readonly singleFlight: Outcome
  readonly naive: Outcome
  /** Hard: at most one token call for the one rotation the expiry needs. */
  readonly met: boolean
  /** Soft: every one of the concurrent requests succeeds. */
  readonly allSucceeded: boolean
}

const tokenLog = (sim: Simulator.Simulator) => sim.log.filter((r) => r.route === "token")

// The request the runtime-fetch suite sends: what the AI SDK hands the adapter's fetch.
const sendMessage = async (adapter: RuntimeFetchAdapter, sim: Simulator.Simulator): Promise<boolean> => {
  try {
    const response = await adapter.fetch(`${sim.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }),
      signal: AbortSignal.timeout(10_000)
    })
    await response.arrayBuffer()
    return response.ok
  } catch {
    return false
  }
}

const singleFlight = async (): Promise<Outcome> => {
  const sim = await Simulator.start({ scenario: SCENARIO, ttlMs: 60_000 })
  try {
    const adapter = await CoreAdapters.refreshSingleFlight({ sim, logins: [Login.fromIssued(sim.account)] })
    const ok = await Promise.all(Array.from({ length: CONCURRENT }, () => sendMessage(adapter, sim)))
    const calls = tokenLog(sim)
    return {
      client: "tollgate single-flight (CoreAdapters.refreshSingleFlight)",
      tokenCalls: calls.length,
      rotations: calls.filter((r) => r.outcome === 200).length,
      invalidGrant: calls.filter((r) => r.outcome === 400).length,
      succeeded: ok.filter(Boolean).length
    }
  } finally {
    await sim.close()
  }
}

// Each concurrent request refreshes with the stored refresh token, as the
// deprecated opencode plugin did.
const withoutSingleFlight = async (): Promise<Outcome> => {
  const sim = await Simulator.start({ scenario: SCENARIO, ttlMs: 60_000 })
  try {
    const refreshToken = sim.account.refreshToken
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        try {
          const response = await fetch(`${sim.url}/v1/oauth/token`, {
            method: "POST",
            headers: { "content-type": "application/json", "user-agent": OAuthConfig.defaults.userAgent.token },
            body: JSON.stringify({
              grant_type: "refresh_token",
              refresh_token: refreshToken,
              client_id: OAuthConfig.defaults.clientId
            }),
            signal: AbortSignal.timeout(10_000)
          })
          return { status: response.status, text: await response.text() }
        } catch (error) {
          return { status: null, text: String(error) }
        }
      })
    )
    return {
      client: "no single-flight (50 plain-fetch refreshes)",
      tokenCalls: tokenLog(sim).length,
      rotations: answers.filter((a) => a.status === 200).length,
      invalidGrant: answers.filter((a) => a.status === 400 && /invalid_grant/.test(a.text)).length,
      succeeded: answers.filter((a) => a.status === 200).length
    }
  } finally {
    await sim.close()
  }
}

/** Runs both clients, one after the other. */
export const run = async (): Promise<Result> => {
  const tollgate = await singleFlight()
  const naive = await withoutSingleFlight()
  return {
    singleFlight: tollgate,
    naive,
    met: tollgate.tokenCalls <= 1,
    allSucceeded: tollgate.succeeded === CONCURRENT
  }
}
