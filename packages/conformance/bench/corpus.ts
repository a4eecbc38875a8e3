// The classifier's corpus: every response the catalog scripts, shaped as a
// client receives it (time templates filled, padding generated as the
// simulator does, faults turned into what the client sees, bodies cut at the
// client's read cap), plus the healthy answers recorded from a live simulator
// — the catalog scripts only failures, and real traffic is mostly 200s.
import type { Input } from "@tollgate/core/Classify"
import type { Endpoint } from "@tollgate/core/Endpoint"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import { catalog } from "../src/Catalog.js"
import { fill, renderBody, type Scenario, type Step } from "../src/Scenario.js"
import * as Simulator from "../src/Simulator.js"

/** One response, as the classifier and the baseline both receive it. */
export interface Recorded {
  /** `scenario/endpoint`, or `recorded/…` for the live healthy answers. */
  readonly label: string
  /** The classifier's input, built once so the loop measures only `classify`. */
  readonly input: Input
  /** `null` when no response arrived (reset, hang, stall). */
  readonly status: number | null
  /** Lower-case names, as an HTTP client hands them over. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

const encoder = new TextEncoder()
const HOUR = 3_600_000

const noResponse = (label: string, endpoint: Endpoint, reason: "reset" | "timeout", now: number): Recorded => ({
  label,
  input: { endpoint, status: null, transportError: reason, now },
  status: null,
  headers: {},
  body: new Uint8Array(0)
})

const fromStep = (scenario: Scenario, endpoint: Endpoint, step: Step, now: number): Recorded => {
  const label = `${scenario.name}/${endpoint}`
  if (step.fault === "reset") return noResponse(label, endpoint, "reset", now)
  // A hang never answers and a stall never finishes its body: the client's deadline ends both.
  if (step.fault === "hang" || step.fault === "stall") return noResponse(label, endpoint, "timeout", now)
  let body = encoder.encode(renderBody(step, now))
  if (step.fault === "truncate") body = body.subarray(0, Math.floor(body.length / 2))
  // The OAuth client stops reading at its cap; nothing past it ever reaches the classifier.
  if (body.length > OAuthConfig.defaults.maxBodyBytes) body = body.subarray(0, OAuthConfig.defaults.maxBodyBytes)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(step.headers ?? {})) headers[name.toLowerCase()] = fill(value, now)
  headers["content-length"] = String(body.length)
  const account = scenario.account ?? {}
  const credential = {
    scopes: account.scopes ?? (account.setupToken ? ["user:inference"] : null),
    expiresAt: now + (account.expiresInMs ?? 8 * HOUR)
  }
  return {
    label,
    input: { endpoint, status: step.status, headers, body, credential, now },
    status: step.status,
    headers,
    body
  }
}

/** Every scripted step of every catalog scenario, each endpoint, in catalog order. */
export const scripted = (now: number): Array<Recorded> =>
  catalog.flatMap((scenario) =>
    Object.entries(scenario.script ?? {}).flatMap(([endpoint, steps]) =>
      (steps ?? []).map((step) => fromStep(scenario, endpoint as Endpoint, step, now))
    )
  )

/** The healthy usage, profile, JSON message and SSE message answers of a live simulator. */
export const recordHealthy = async (): Promise<Array<Recorded>> => {
  const sim = await Simulator.start({ ttlMs: 30_000 })
  try {
    const account = sim.account
    const bearer = { authorization: `Bearer ${account.accessToken}`, "anthropic-beta": OAuthConfig.defaults.oauthBeta }
    const message = (stream: boolean): RequestInit => ({
      method: "POST",
      headers: { ...bearer, "content-type": "application/json", "user-agent": OAuthConfig.defaults.userAgent.messages },
      body: JSON.stringify({
        model: "claude-sonnet-4-5",
        max_tokens: 16,
        stream,
        messages: [{ role: "user", content: "hi" }]
      })
    })
    const calls: ReadonlyArray<[string, Endpoint, string, RequestInit]> = [
      [
        "recorded/usage",
        "usage",
        "/api/oauth/usage",
        { headers: { ...bearer, "user-agent": OAuthConfig.defaults.userAgent.usage } }
      ],
      [
        "recorded/profile",
        "profile",
        "/api/oauth/profile",
        { headers: { ...bearer, "user-agent": OAuthConfig.defaults.userAgent.profile } }
      ],
      ["recorded/messages", "messages", "/v1/messages", message(false)],
      ["recorded/messages-sse", "messages", "/v1/messages", message(true)]
    ]
    const out: Array<Recorded> = []
    for (const [label, endpoint, path, init] of calls) {
      const response = await fetch(`${sim.url}${path}`, { ...init, signal: AbortSignal.timeout(5_000) })
      const body = new Uint8Array(await response.arrayBuffer())
      const headers = Object.fromEntries(response.headers)
      const credential = { scopes: account.scopes, expiresAt: account.expiresAt }
      out.push({
        label,
        input: { endpoint, status: response.status, headers, body, credential, now: Date.now() },
        status: response.status,
        headers,
        body
      })
    }
    return out
  } finally {
    await sim.close()
  }
}
