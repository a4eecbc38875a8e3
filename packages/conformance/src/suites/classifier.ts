/**
 * classifierSuite: every catalog scenario's first response on each endpoint,
 * fetched over real HTTP from the simulator, gets the verdict the reference
 * says it deserves — and its message never holds a token.
 *
 * @since 0.1.0
 */
import type { Endpoint } from "@tollgate/core/Endpoint"
import { catalog } from "../Catalog.js"
import * as Login from "../Login.js"
import type { Scenario } from "../Scenario.js"
import type { Simulator } from "../Simulator.js"
import { type Case, demand, demandEqual, type Suite } from "../Suite.js"

/** A verdict as `Classification.toJson` prints it. @since 0.1.0 */
export interface Verdict {
  readonly tag: string
  readonly message?: unknown
  readonly [field: string]: unknown
}

/** What the adapter is asked to do: one call to `endpoint`. @since 0.1.0 */
export interface Target {
  readonly sim: Simulator
  readonly login: Login.Login
  /** The request deadline to use; fault scenarios rely on it. */
  readonly timeoutMs: number
}

/** What an adapter under the classifier suite does: makes one call and returns its verdict. @since 0.1.0 */
export interface ClassifierAdapter {
  /** Makes the call and returns its verdict (`Ok` on success); never throws for an upstream failure. */
  readonly call: (endpoint: Endpoint, target: Target) => Promise<Verdict>
}

/** Makes a classifier adapter; the suite calls it once per case, so cases share no state. @since 0.1.0 */
export type ClassifierFactory = () => ClassifierAdapter | Promise<ClassifierAdapter>

const DEADLINE_MS = 750

const caseFor = (
  scenario: Scenario,
  endpoint: Endpoint,
  expected: Readonly<Record<string, unknown>>
): Case<ClassifierFactory, Capability> => ({
  name: `${scenario.summary} (${endpoint} → ${String(expected["tag"])})`,
  scenario: scenario.name,
  requires: [endpoint, ...(scenario.tags?.includes("transport") ? (["deadline"] as const) : [])],
  run: async (factory, context) => {
    const sim = await context.simulator({ scenario })
    const login = Login.fromIssued(sim.account)
    const adapter = await factory()
    const verdict = await adapter.call(endpoint, { sim, login, timeoutMs: DEADLINE_MS })
    const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, k === "tag" ? verdict.tag : verdict[k]]))
    demandEqual(actual, expected, `the verdict of the first ${endpoint} call`)
    const message = String(verdict.message ?? "")
    for (const token of [login.accessToken, login.refreshToken]) {
      demand(token === null || !message.includes(token), "the verdict's message never contains a token")
    }
  }
})

/** What each capability of this suite means; a case names the ones it needs. @since 0.2.0 */
export const capabilities = {
  token: "calls the token endpoint",
  usage: "calls the usage endpoint",
  profile: "calls the profile endpoint",
  messages: "calls the messages endpoint",
  deadline: "has a request deadline, so a server that never answers ends"
} as const

/** A capability an adapter of this suite may declare. @since 0.2.0 */
export type Capability = keyof typeof capabilities

/** The classifier suite: one case per catalog scenario and endpoint with an expected verdict. @since 0.1.0 */
export const suite: Suite<ClassifierFactory, Capability> = {
  name: "classifier",
  capabilities,
  cases: catalog.flatMap((scenario) =>
    Object.entries(scenario.expect ?? {}).map(([endpoint, expected]) =>
      caseFor(scenario, endpoint as Endpoint, expected as Readonly<Record<string, unknown>>)
    )
  )
}
