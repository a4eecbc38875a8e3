// Classifications per second over the recorded corpus, against the cheapest
// thing any client must do per response — decode the body, attempt
// `JSON.parse`, read the headers that matter — measured in the same process,
// in alternating rounds so drift hits both alike. Informational: no target.
import { classify } from "@tollgate/core/Classify"
import type { Recorded } from "./corpus.js"

/** Rounds and their length; the median round is reported. */
export interface Options {
  readonly warmupMs: number
  readonly roundMs: number
  readonly rounds: number
}

export const defaultOptions: Options = { warmupMs: 200, roundMs: 250, rounds: 5 }

/** One corpus measured. */
export interface Result {
  readonly corpus: string
  readonly responses: number
  /** Median classifications per second. */
  readonly classifyPerSecond: number
  /** Median baseline operations per second. */
  readonly baselinePerSecond: number
  /** The classifier's cost per response as a multiple of the baseline's. */
  readonly costMultiple: number
  readonly rounds: { readonly classify: ReadonlyArray<number>; readonly baseline: ReadonlyArray<number> }
  /** How often each verdict occurs in the corpus (a sanity check that it is varied). */
  readonly verdicts: Readonly<Record<string, number>>
}

// Results feed this so the optimiser cannot drop the work.
let sink = 0

const decoder = new TextDecoder()

// The headers the classifier looks at.
const HEADERS = [
  "content-type",
  "retry-after",
  "retry-after-ms",
  "request-id",
  "anthropic-ratelimit-unified-status",
  "anthropic-ratelimit-unified-reset"
]

const baseline = (r: Recorded): number => {
  let n = 0
  for (const name of HEADERS) n += r.headers[name]?.length ?? 0
  // No response, nothing to parse.
  if (r.status === null) return n
  try {
    const parsed: unknown = JSON.parse(decoder.decode(r.body))
    return n + (parsed === null ? 0 : 1)
  } catch {
    return n - 1
  }
}

const classifyOne = (r: Recorded): number => classify(r.input)._tag.length

// Runs whole passes over the corpus until `ms` has passed; returns responses per second.
const round = (corpus: ReadonlyArray<Recorded>, one: (r: Recorded) => number, ms: number): number => {
  let passes = 0
  const started = performance.now()
  let elapsed = 0
  do {
    for (const r of corpus) sink += one(r)
    passes++
    elapsed = performance.now() - started
  } while (elapsed < ms)
  return (passes * corpus.length) / (elapsed / 1000)
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Measures one corpus. */
export const measure = (name: string, corpus: ReadonlyArray<Recorded>, options: Options = defaultOptions): Result => {
  round(corpus, classifyOne, options.warmupMs)
  round(corpus, baseline, options.warmupMs)
  const classifyRounds: Array<number> = []
  const baselineRounds: Array<number> = []
  for (let i = 0; i < options.rounds; i++) {
    classifyRounds.push(round(corpus, classifyOne, options.roundMs))
    baselineRounds.push(round(corpus, baseline, options.roundMs))
  }
  const verdicts: Record<string, number> = {}
  for (const r of corpus) {
    const tag = classify(r.input)._tag
    verdicts[tag] = (verdicts[tag] ?? 0) + 1
  }
  const classifyPerSecond = median(classifyRounds)
  const baselinePerSecond = median(baselineRounds)
  if (sink === Number.MIN_VALUE) console.log(sink)
  return {
    corpus: name,
    responses: corpus.length,
    classifyPerSecond,
    baselinePerSecond,
    costMultiple: baselinePerSecond / classifyPerSecond,
    rounds: { classify: classifyRounds, baseline: baselineRounds },
    verdicts
  }
}
