// The load generator's client: node:http with a keep-alive Agent, the same
// for every target, timing one request from just before it is made to its
// first body byte and to its last.
import { Agent, request } from "node:http"

/** Somewhere to send `POST /v1/messages`, with the headers its client would send. */
export interface Target {
  readonly name: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

export interface Timing {
  /** Request start → first body byte. */
  readonly firstByteMs: number
  /** Request start → end of the body. */
  readonly totalMs: number
  readonly status: number
  readonly body: string
}

export const messageBody = (stream: boolean) =>
  JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] })

/** One keep-alive connection per target: sequential requests reuse it. */
export const sequentialAgent = () => new Agent({ keepAlive: true, maxSockets: 1 })

/** As many connections as there are requests in flight. */
export const concurrentAgent = () => new Agent({ keepAlive: true, maxSockets: Infinity })

export const send = (agent: Agent, target: Target, body: string, onFirstByte?: () => void): Promise<Timing> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    let firstByteMs = Number.NaN
    const req = request(
      `${target.url}/v1/messages`,
      { method: "POST", agent, headers: { ...target.headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => {
          if (chunks.length === 0) {
            firstByteMs = performance.now() - t0
            onFirstByte?.()
          }
          chunks.push(chunk)
        })
        res.once("end", () =>
          resolve({
            firstByteMs,
            totalMs: performance.now() - t0,
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8")
          })
        )
        res.once("error", reject)
      }
    )
    req.once("error", reject)
    req.end(body)
  })

/** Linear-interpolated quantile. */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  const hi = Math.ceil(i)
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo)
}
