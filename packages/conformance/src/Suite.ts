/**
 * The shape every shared suite has (the keyv / abstract-level pattern): a list
 * of cases, each naming its scenario and the behaviour it demands in a user's
 * words, run against an adapter made by a factory. Cases that need a
 * capability the adapter lacks are not applicable, and say why.
 *
 * Suites do not depend on a test runner: `run` drives them for the
 * `tollgate conformance` matrix, and `@tollgate/conformance/vitest` registers
 * them as vitest tests.
 *
 * @since 0.1.0
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Simulator from "./Simulator.js"

/**
 * What an adapter can do, keyed by its suite's capability names (`K`): a
 * misspelt key does not compile, so a case is never skipped by a typo.
 *
 * @since 0.1.0
 */
export type Capabilities<K extends string = string> = { readonly [C in K]?: boolean | undefined }

/** What a case gets besides its adapter. @since 0.1.0 */
export interface Context {
  /** Starts a simulator that is closed when the case ends. */
  readonly simulator: (options?: Simulator.Options) => Promise<Simulator.Simulator>
  /** A temp directory removed when the case ends. */
  readonly tempDir: () => Promise<string>
}

/** One behaviour a suite demands; `K` names the suite's capabilities. @since 0.1.0 */
export interface Case<F, K extends string = string> {
  /** The behaviour, in a user's words. */
  readonly name: string
  /** The catalog scenario it plays (or a short description of its own script). */
  readonly scenario: string
  /** Capabilities the adapter must declare. */
  readonly requires?: ReadonlyArray<K>
  /** Plays the case: makes its adapter(s) with the factory, demands the behaviour. */
  readonly run: (factory: F, context: Context) => Promise<void>
}

/**
 * A suite over adapters made by factories of type `F`.
 *
 * @since 0.1.0
 */
export interface Suite<F, K extends string = string> {
  readonly name: string
  readonly cases: ReadonlyArray<Case<F, K>>
  /** What each capability means, printed when a case is skipped for lacking it. */
  readonly capabilities: { readonly [C in K]: string }
}

/** The outcome of one case. @since 0.1.0 */
export interface Result {
  readonly suite: string
  readonly adapter: string
  readonly case: string
  readonly scenario: string
  readonly status: "pass" | "fail" | "n/a"
  /** Why it failed, or why it does not apply. */
  readonly reason: string | null
  readonly ms: number
}

/** Thrown by a case whose demand was not met. @since 0.1.0 */
export class Unmet extends Error {
  override readonly name = "Unmet"
}

/**
 * Asserts `condition`, with the demand in plain words.
 *
 * @since 0.1.0
 */
export const demand = (condition: boolean, what: string): void => {
  if (!condition) throw new Unmet(what)
}

/** Asserts deep equality of JSON-like values. @since 0.1.0 */
export const demandEqual = (actual: unknown, expected: unknown, what: string): void => {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Unmet(`${what}: expected ${e}, got ${a}`)
}

/** Why a case does not apply to an adapter, or `null` when it does. @since 0.1.0 */
export const inapplicable = <F, K extends string>(
  suite: Suite<F, K>,
  c: Case<F, K>,
  capabilities: Capabilities<K>
): string | null => {
  const missing = (c.requires ?? []).filter((cap) => capabilities[cap] !== true)
  if (missing.length === 0) return null
  return missing.map((cap) => `lacks ${cap} (${suite.capabilities[cap] ?? cap})`).join("; ")
}

/**
 * Runs one case with a fresh context, cleaning up whatever it started.
 *
 * @since 0.1.0
 */
export const runCase = async <F>(c: Case<F>, factory: F, timeoutMs = 60_000): Promise<void> => {
  const simulators: Array<Simulator.Simulator> = []
  const dirs: Array<string> = []
  const context: Context = {
    simulator: async (options) => {
      const sim = await Simulator.start({ ttlMs: timeoutMs + 5_000, ...options })
      simulators.push(sim)
      return sim
    },
    tempDir: async () => {
      const dir = await mkdtemp(join(tmpdir(), "tollgate-conformance-"))
      dirs.push(dir)
      return dir
    }
  }
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      c.run(factory, context),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Unmet(`did not finish within ${timeoutMs} ms`)), timeoutMs)
      })
    ])
  } finally {
    clearTimeout(timer)
    await Promise.all(simulators.map((s) => s.close()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
}

/**
 * Runs every case of `suite` against one adapter.
 *
 * @since 0.1.0
 */
export const run = async <F, K extends string>(
  suite: Suite<F, K>,
  adapter: string,
  factory: F,
  capabilities: Capabilities<K>
): Promise<ReadonlyArray<Result>> => {
  const results: Array<Result> = []
  for (const c of suite.cases) {
    const started = performance.now()
    const skip = inapplicable(suite, c, capabilities)
    if (skip !== null) {
      results.push({
        suite: suite.name,
        adapter,
        case: c.name,
        scenario: c.scenario,
        status: "n/a",
        reason: skip,
        ms: 0
      })
      continue
    }
    let status: Result["status"] = "pass"
    let reason: string | null = null
    try {
      await runCase(c, factory)
    } catch (error) {
      status = "fail"
      reason = error instanceof Error ? error.message : String(error)
    }
    results.push({
      suite: suite.name,
      adapter,
      case: c.name,
      scenario: c.scenario,
      status,
      reason,
      ms: Math.round(performance.now() - started)
    })
  }
  return results
}
