/**
 * The conformance matrix: every registered adapter through every applicable
 * case of its suite, with a report a person would rather read than logs.
 *
 * @since 0.1.0
 */
import { catalog } from "./Catalog.js"
import * as ClassifierSuite from "./suites/classifier.js"
import * as CredentialStoreSuite from "./suites/credentialStore.js"
import * as RuntimeFetchSuite from "./suites/runtimeFetch.js"
import * as UsageSourceSuite from "./suites/usageSource.js"
import { type Capabilities, type Result, run, type Suite } from "./Suite.js"

/** The suites by name. @since 0.1.0 */
export const suites = {
  classifier: ClassifierSuite.suite,
  "usage-source": UsageSourceSuite.suite,
  "runtime-fetch": RuntimeFetchSuite.suite,
  "credential-store": CredentialStoreSuite.suite
} as const

/** The name of a shared suite a registration answers to. @since 0.1.0 */
export type SuiteName = keyof typeof suites

type FactoryOf<S extends SuiteName> = (typeof suites)[S] extends Suite<infer F, infer _K> ? F : never
type CapabilityOf<S extends SuiteName> = (typeof suites)[S] extends Suite<infer _F, infer K> ? K : never

/** One row: an adapter and the suite it answers to. @since 0.1.0 */
export type Registration = {
  [S in SuiteName]: {
    readonly adapter: string
    readonly suite: S
    readonly factory: FactoryOf<S>
    readonly capabilities: Capabilities<CapabilityOf<S>>
  }
}[SuiteName]

/** What `runMatrix` returns: every case's result and the totals; `toText` and `toMarkdown` render it. @since 0.1.0 */
export interface Report {
  readonly startedAt: string
  readonly durationMs: number
  readonly scenarios: number
  readonly results: ReadonlyArray<Result>
  readonly totals: { readonly pass: number; readonly fail: number; readonly notApplicable: number }
}

/**
 * Runs every registration; `onResult` sees each case as it finishes.
 *
 * @since 0.1.0
 */
export const runMatrix = async (
  registrations: ReadonlyArray<Registration>,
  onResult: (result: Result) => void = () => {}
): Promise<Report> => {
  const started = Date.now()
  const results: Array<Result> = []
  for (const r of registrations) {
    const suite = suites[r.suite] as Suite<unknown>
    for (const result of await runReporting(suite, r, onResult)) results.push(result)
  }
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    scenarios: catalog.length,
    results,
    totals: {
      pass: results.filter((r) => r.status === "pass").length,
      fail: results.filter((r) => r.status === "fail").length,
      notApplicable: results.filter((r) => r.status === "n/a").length
    }
  }
}

// `suites[r.suite]` and `r`'s factory and capabilities belong together (Registration is built per suite),
// which TypeScript cannot follow through the union: the loop works on the erased types.
const runReporting = async (suite: Suite<unknown>, r: Registration, onResult: (result: Result) => void) => {
  const results = await run(suite, r.adapter, r.factory, r.capabilities as Capabilities)
  results.forEach(onResult)
  return results
}

const cell = (status: Result["status"] | undefined) =>
  status === "pass" ? "pass" : status === "fail" ? "FAIL" : status === "n/a" ? "n/a" : "-"

const grouped = (report: Report) => {
  const bySuite = new Map<string, Array<Result>>()
  for (const r of report.results) bySuite.set(r.suite, [...(bySuite.get(r.suite) ?? []), r])
  return [...bySuite.entries()].map(([suite, results]) => {
    const adapters = [...new Set(results.map((r) => r.adapter))]
    const cases = [...new Set(results.map((r) => r.case))]
    const at = (c: string, a: string) => results.find((r) => r.case === c && r.adapter === a)
    return { suite, adapters, cases, at, results }
  })
}

const totalsLine = (report: Report) =>
  `${report.totals.pass} passed, ${report.totals.fail} failed, ${report.totals.notApplicable} not applicable — ${report.scenarios} scenarios in the catalog, ${(report.durationMs / 1000).toFixed(1)} s`

/**
 * A terminal table per suite, then failures and what did not apply.
 *
 * @since 0.1.0
 */
export const toText = (report: Report): string => {
  const lines: Array<string> = []
  for (const { suite, adapters, cases, at, results } of grouped(report)) {
    lines.push("", `suite: ${suite}`)
    const width = Math.min(90, Math.max(...cases.map((c) => c.length)))
    const short = adapters.map((_, i) => `[${i + 1}]`)
    adapters.forEach((a, i) => {
      lines.push(`  ${short[i]} ${a}`)
    })
    lines.push(`  ${"case".padEnd(width)}  ${short.map((s) => s.padEnd(5)).join(" ")}`)
    for (const c of cases) {
      const name = c.length > width ? `${c.slice(0, width - 1)}…` : c
      lines.push(`  ${name.padEnd(width)}  ${adapters.map((a) => cell(at(c, a)?.status).padEnd(5)).join(" ")}`)
    }
    for (const r of results.filter((r) => r.status === "fail")) {
      lines.push(`  FAIL ${r.adapter} — ${r.case} [${r.scenario}]: ${r.reason}`)
    }
    const reasons = new Map<string, number>()
    for (const r of results.filter((r) => r.status === "n/a")) {
      const key = `${r.adapter}: ${r.reason}`
      reasons.set(key, (reasons.get(key) ?? 0) + 1)
    }
    for (const [reason, n] of reasons) lines.push(`  n/a  ${reason} (${n} case${n === 1 ? "" : "s"})`)
  }
  lines.push("", `conformance: ${totalsLine(report)}`)
  return lines.join("\n")
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ")

/**
 * The same matrix as Markdown.
 *
 * @since 0.1.0
 */
export const toMarkdown = (report: Report): string => {
  const out: Array<string> = [
    "# tollgate conformance report",
    "",
    `Run ${report.startedAt}: **${totalsLine(report)}**.`,
    ""
  ]
  for (const { suite, adapters, cases, at, results } of grouped(report)) {
    out.push(
      `## ${suite}`,
      "",
      `| case | scenario | ${adapters.map(md).join(" | ")} |`,
      `|---|---|${adapters.map(() => "---").join("|")}|`
    )
    for (const c of cases) {
      const scenario = results.find((r) => r.case === c)?.scenario ?? ""
      out.push(
        `| ${md(c)} | \`${md(scenario)}\` | ${adapters
          .map((a) => {
            const r = at(c, a)
            return r?.status === "pass"
              ? "✅ pass"
              : r?.status === "fail"
                ? `❌ ${md(r.reason ?? "")}`
                : r
                  ? `n/a: ${md(r.reason ?? "")}`
                  : "–"
          })
          .join(" | ")} |`
      )
    }
    out.push("")
  }
  return out.join("\n")
}
