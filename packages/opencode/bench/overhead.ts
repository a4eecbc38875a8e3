// Plugin overhead per request: the same non-streaming POST /v1/messages sent to
// a loopback simulator by a plain `fetch` carrying the headers a direct client
// sends (bearer + OAuth beta) and by AuthorizedFetch with that login. The two
// run in alternating blocks (A B B A …) on the same keep-alive pool, so drift
// in the machine and the server lands on both.
import * as Simulator from "@tollgate/conformance/Simulator"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"

export interface Options {
  readonly warmup: number
  readonly perSide: number
  readonly block: number
}

export const defaultOptions: Options = { warmup: 100, perSide: 600, block: 20 }

export interface Result {
  readonly requestsPerSide: number
  readonly warmupPerSide: number
  readonly blockSize: number
  readonly directMedianMs: number
  readonly pluginMedianMs: number
  readonly directP90Ms: number
  readonly pluginP90Ms: number
  /** median(plugin) − median(direct). */
  readonly addedMedianMs: number
  /** Median over block pairs of (block median plugin − block median direct): a drift-resistant cross-check. */
  readonly addedPairedMs: number
  readonly ratio: number
  readonly tokenCalls: number
  readonly messagesServed: number
}

export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  const hi = Math.ceil(i)
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo)
}
export const median = (xs: ReadonlyArray<number>) => quantile(xs, 0.5)

const BODY = JSON.stringify({
  model: "claude-sonnet-4-5",
  max_tokens: 64,
  messages: [{ role: "user", content: "hi" }]
})

export const run = async (options: Options = defaultOptions): Promise<Result> => {
  const sim = await Simulator.start({ maxRequests: 1_000_000, ttlMs: 5 * 60_000 })
  try {
    const settings = OAuthConfig.make({})
    const url = `${sim.url}/v1/messages`
    // What the AI SDK sends for one message; the plugin adds/overwrites auth, beta and User-Agent.
    const sdkHeaders = { "content-type": "application/json", "anthropic-version": "2023-06-01" }
    const directHeaders = {
      ...sdkHeaders,
      authorization: `Bearer ${sim.account.accessToken}`,
      "anthropic-beta": settings.oauthBeta,
      "user-agent": settings.userAgent.messages
    }
    const plugin = AuthorizedFetch.make({
      accounts: [
        {
          type: "oauth",
          access: sim.account.accessToken,
          refresh: sim.account.refreshToken,
          expires: sim.account.expiresAt
        }
      ],
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
    const direct = (input: string, init: RequestInit) => fetch(input, { ...init, headers: directHeaders })

    const one = async (f: (input: string, init: RequestInit) => Promise<Response>): Promise<number> => {
      const t0 = performance.now()
      const response = await f(url, { method: "POST", headers: sdkHeaders, body: BODY })
      const text = await response.text()
      const t1 = performance.now()
      if (response.status !== 200 || text.length === 0)
        throw new Error(`overhead bench: HTTP ${response.status}: ${text.slice(0, 200)}`)
      return t1 - t0
    }

    const sides = { direct: [] as Array<number>, plugin: [] as Array<number> }
    const pairs: Array<number> = []
    const blocks = async (record: boolean, perSide: number) => {
      for (let done = 0, k = 0; done < perSide; done += options.block, k++) {
        const n = Math.min(options.block, perSide - done)
        // A B, then B A: neither side always runs first.
        const order = k % 2 === 0 ? (["direct", "plugin"] as const) : (["plugin", "direct"] as const)
        const blockMedian = { direct: 0, plugin: 0 }
        for (const side of order) {
          const f = side === "direct" ? direct : plugin
          const times: Array<number> = []
          for (let i = 0; i < n; i++) times.push(await one(f))
          blockMedian[side] = median(times)
          if (record) sides[side].push(...times)
        }
        if (record) pairs.push(blockMedian.plugin - blockMedian.direct)
      }
    }
    await blocks(false, options.warmup)
    await blocks(true, options.perSide)

    const directMedianMs = median(sides.direct)
    const pluginMedianMs = median(sides.plugin)
    return {
      requestsPerSide: options.perSide,
      warmupPerSide: options.warmup,
      blockSize: options.block,
      directMedianMs,
      pluginMedianMs,
      directP90Ms: quantile(sides.direct, 0.9),
      pluginP90Ms: quantile(sides.plugin, 0.9),
      addedMedianMs: pluginMedianMs - directMedianMs,
      addedPairedMs: median(pairs),
      ratio: pluginMedianMs / directMedianMs,
      tokenCalls: sim.count("token"),
      messagesServed: sim.count("messages")
    }
  } finally {
    await sim.close()
  }
}

export interface WrapperCost {
  readonly callsPerSide: number
  readonly directUs: number
  readonly pluginUs: number
  readonly addedUs: number
}

/**
 * The plugin's own CPU per call, without a network: global `fetch` swapped for
 * one that answers a canned 200 at once, the same two callers alternating in
 * rounds. What the wire measurement adds beyond this is event-loop and socket
 * time, not plugin code.
 */
export const wrapperCost = async (rounds = 6, calls = 4000): Promise<WrapperCost> => {
  const real = globalThis.fetch
  globalThis.fetch = (async () =>
    new Response('{"type":"message"}', {
      status: 200,
      headers: { "content-type": "application/json", "anthropic-ratelimit-unified-5h-utilization": "0.42" }
    })) as typeof fetch
  try {
    const sdkHeaders = { "content-type": "application/json", "anthropic-version": "2023-06-01" }
    const plugin = AuthorizedFetch.make({
      accounts: [
        {
          type: "oauth",
          access: "sk-ant-oat01-stub",
          refresh: "sk-ant-ort01-stub",
          expires: Date.now() + 8 * 3_600_000
        }
      ],
      settings: { apiBaseUrl: "http://127.0.0.1:9", oauthBaseUrl: "http://127.0.0.1:9" }
    })
    const direct = (input: string, init: RequestInit) =>
      globalThis.fetch(input, {
        ...init,
        headers: { ...sdkHeaders, authorization: "Bearer sk-ant-oat01-stub", "anthropic-beta": "oauth-2025-04-20" }
      })
    const init: RequestInit = { method: "POST", headers: sdkHeaders, body: BODY }
    const perCall = { direct: [] as Array<number>, plugin: [] as Array<number> }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (["direct", "plugin"] as const) : (["plugin", "direct"] as const)
      for (const side of order) {
        const f = side === "direct" ? direct : plugin
        const t0 = performance.now()
        for (let i = 0; i < calls; i++) await (await f("http://127.0.0.1:9/v1/messages", init)).text()
        // The first round of each side is warm-up.
        if (r >= 2) perCall[side].push(((performance.now() - t0) / calls) * 1000)
      }
    }
    const directUs = median(perCall.direct)
    const pluginUs = median(perCall.plugin)
    return { callsPerSide: (rounds - 2) * calls, directUs, pluginUs, addedUs: pluginUs - directUs }
  } finally {
    globalThis.fetch = real
  }
}
