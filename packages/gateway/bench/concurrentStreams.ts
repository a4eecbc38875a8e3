// N streams at once through one target, paced by the simulator so they are
// all open together: do they all complete, how long does the whole batch
// take, and what does the gateway process's resident set do meanwhile
// (sampled from /proc every few ms, so sampling costs the gateway nothing).
import type { Agent } from "node:http"
import { messageBody, send, type Target } from "./client.js"

export interface Result {
  readonly target: string
  readonly streams: number
  readonly completed: number
  /** The most streams open at the client at one moment (first byte seen, end not yet). */
  readonly peakOpen: number
  readonly wallMs: number
  readonly rssPeak: number
}

export const SAMPLE_MS = 5

export const run = async (agent: Agent, target: Target, streams: number, rss: () => number): Promise<Result> => {
  let open = 0
  let peakOpen = 0
  let rssPeak = rss()
  const sampler = setInterval(() => {
    const now = rss()
    if (now > rssPeak) rssPeak = now
  }, SAMPLE_MS)
  const body = messageBody(true)
  const t0 = performance.now()
  try {
    const results = await Promise.allSettled(
      Array.from({ length: streams }, () => {
        let counted = false
        return send(agent, target, body, () => {
          counted = true
          if (++open > peakOpen) peakOpen = open
        }).finally(() => {
          if (counted) open--
        })
      })
    )
    const wallMs = performance.now() - t0
    const completed = results.filter(
      (r) => r.status === "fulfilled" && r.value.status === 200 && r.value.body.includes("event: message_stop")
    ).length
    return { target: target.name, streams, completed, peakOpen, wallMs, rssPeak: Math.max(rssPeak, rss()) }
  } finally {
    clearInterval(sampler)
  }
}
