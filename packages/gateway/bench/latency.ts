// Latency of the same request on several targets, interleaved: blocks of
// `block` sequential requests per target, the targets' order rotating from
// block to block, so drift in a noisy machine lands on every target alike.
// The first target is the baseline every other is compared with.
import type { Agent } from "node:http"
import { quantile, send, type Target, type Timing } from "./client.js"

export interface Options {
  readonly warmup: number
  readonly perTarget: number
  readonly block: number
  readonly stream: boolean
}

export interface Side {
  readonly name: string
  readonly samples: ReadonlyArray<number>
  readonly p50: number
  readonly p90: number
  readonly p99: number
  /** Median of the whole request, the body read to its end (for a stream: its last event). */
  readonly totalP50: number
  /** p50 − the baseline's p50. */
  readonly addedP50: number
  /** Median over rounds of (this target's block median − the baseline's block median). */
  readonly addedPaired: number
  readonly ratio: number
}

/** What is measured of a timing: the first byte of a stream, the whole of a JSON answer. */
const measureOf = (stream: boolean) => (t: Timing) => (stream ? t.firstByteMs : t.totalMs)

export const run = async (
  agent: Agent,
  targets: ReadonlyArray<Target>,
  body: string,
  options: Options
): Promise<ReadonlyArray<Side>> => {
  const measure = measureOf(options.stream)
  const samples = targets.map(() => [] as Array<number>)
  const totals = targets.map(() => [] as Array<number>)
  const blockMedians = targets.map(() => [] as Array<number>)
  const one = async (target: Target) => {
    const t = await send(agent, target, body)
    if (
      t.status !== 200 ||
      (options.stream ? !t.body.includes("message_stop") : !t.body.includes('"type":"message"'))
    ) {
      throw new Error(`bench: ${target.name} answered ${t.status}: ${t.body.slice(0, 200)}`)
    }
    return t
  }
  const rounds = async (perTarget: number, record: boolean) => {
    for (let done = 0, round = 0; done < perTarget; done += options.block, round++) {
      const n = Math.min(options.block, perTarget - done)
      for (let k = 0; k < targets.length; k++) {
        const i = (k + round) % targets.length
        const block: Array<number> = []
        for (let j = 0; j < n; j++) {
          const t = await one(targets[i]!)
          block.push(measure(t))
          if (record) totals[i]!.push(t.totalMs)
        }
        if (record) {
          samples[i]!.push(...block)
          blockMedians[i]!.push(quantile(block, 0.5))
        }
      }
    }
  }
  await rounds(options.warmup, false)
  await rounds(options.perTarget, true)
  const base = quantile(samples[0]!, 0.5)
  return targets.map((target, i) => {
    const p50 = quantile(samples[i]!, 0.5)
    return {
      name: target.name,
      samples: samples[i]!,
      p50,
      p90: quantile(samples[i]!, 0.9),
      p99: quantile(samples[i]!, 0.99),
      totalP50: quantile(totals[i]!, 0.5),
      addedP50: p50 - base,
      addedPaired: quantile(
        blockMedians[i]!.map((m, r) => m - blockMedians[0]![r]!),
        0.5
      ),
      ratio: p50 / base
    }
  })
}
