/**
 * How the gateway sends a signed request upstream: `node:http`/`node:https`
 * with keep-alive agents instead of the global fetch (undici). The request
 * path stays the shared one (`AuthorizedFetch` with `transport`); only the
 * hop is cheaper. `pnpm --filter @tollgate/gateway bench` measured undici's
 * fetch adding about 0.5 ms per request over a `node:http` request on the
 * same loopback hop, as much as the gateway's whole budget.
 *
 * The answer is a web `Response`, as fetch's would be: an event stream is
 * passed on as it arrives; any other body (an answer, an error envelope) is
 * read whole first, which is what the request path does with it anyway
 * before it decides. A compressed body is decoded and its
 * `content-encoding` dropped, as fetch does.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { Readable } from "node:stream"
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib"
import { isEventStream } from "@tollgate/core/Classify"

/** Sends one request; the shape of `fetch`. */
export type Transport = (input: string | URL, init?: RequestInit) => Promise<Response>

/** A transport and the way to let its idle connections go. */
export interface Made {
  readonly send: Transport
  readonly close: () => void
}

// Statuses whose response has no body by definition (fetch's Response refuses one).
const NULL_BODY = new Set([101, 204, 205, 304])

const abortError = (signal: AbortSignal): Error => {
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason
  const error = new Error("aborted: the request was aborted")
  error.name = "AbortError"
  return error
}

const headersRecord = (init: RequestInit["headers"]): Record<string, string> => {
  const out: Record<string, string> = {}
  // The request path hands a Headers already (signed); only anything else needs converting first.
  ;(init instanceof Headers ? init : new Headers(init)).forEach((value, name) => {
    out[name] = value
  })
  return out
}

const bodyBytes = (body: RequestInit["body"]): Buffer | null => {
  if (body === undefined || body === null) return null
  if (typeof body === "string") return Buffer.from(body, "utf8")
  if (body instanceof ArrayBuffer) return Buffer.from(body)
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw new TypeError("tollgate gateway: a request body must be buffered before it is sent")
}

const decoded = (res: IncomingMessage): { readonly stream: Readable; readonly encoded: boolean } => {
  const encoding = (res.headers["content-encoding"] ?? "identity").trim().toLowerCase()
  if (encoding === "gzip" || encoding === "x-gzip") return { stream: res.pipe(createGunzip()), encoded: true }
  if (encoding === "deflate") return { stream: res.pipe(createInflate()), encoded: true }
  if (encoding === "br") return { stream: res.pipe(createBrotliDecompress()), encoded: true }
  return { stream: res, encoded: false }
}

const responseHeaders = (res: IncomingMessage, encoded: boolean): Headers => {
  const headers = new Headers()
  const raw = res.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (encoded && (name === "content-encoding" || name === "content-length")) continue
    headers.append(name, raw[i + 1]!)
  }
  return headers
}

const readAll = (stream: Readable): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
    })
    stream.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
    stream.once("error", reject)
    stream.once("close", () => {
      if (!stream.readableEnded) reject(new Error("terminated: the upstream closed the answer before its end"))
    })
  })

/**
 * A `node:http`/`node:https` transport with keep-alive agents of its own.
 *
 * @since 0.1.0
 */
export const make = (): Made => {
  const agents = {
    http: new HttpAgent({ keepAlive: true, scheduling: "lifo" }),
    https: new HttpsAgent({ keepAlive: true, scheduling: "lifo" })
  }
  const send: Transport = (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = typeof input === "string" ? new URL(input) : input
      const signal = init.signal ?? null
      if (signal?.aborted) return reject(abortError(signal))
      const secure = url.protocol === "https:"
      const body = bodyBytes(init.body)
      const headers = headersRecord(init.headers)
      headers["content-length"] = String(body?.length ?? 0)
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: init.method ?? "GET",
        headers,
        agent: secure ? agents.https : agents.http
      })
      let answer: Readable | null = null
      const onAbort = () => {
        const error = abortError(signal!)
        req.destroy(error)
        answer?.destroy(error)
        reject(error)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      const done = () => signal?.removeEventListener("abort", onAbort)
      req.once("error", (error) => {
        done()
        reject(error)
      })
      req.once("response", (res) => {
        const status = res.statusCode ?? 0
        const { stream, encoded } = decoded(res)
        answer = stream
        const headersOut = responseHeaders(res, encoded)
        const init = { status, statusText: res.statusMessage ?? "", headers: headersOut }
        stream.once("close", done)
        try {
          if (NULL_BODY.has(status)) {
            stream.resume()
            return resolve(new Response(null, init))
          }
          if (isEventStream(headersOut.get("content-type"))) {
            return resolve(new Response(Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, init))
          }
          readAll(stream).then(
            (bytes) => resolve(new Response(bytes.length === 0 ? null : bytes, init)),
            (error: unknown) => reject(error)
          )
        } catch (error) {
          // A status fetch's Response cannot carry (below 200 or above 599): no usable answer.
          stream.destroy()
          reject(new Error(`other: the upstream answered with status ${status}`, { cause: error }))
        }
      })
      req.end(body ?? undefined)
    })
  return {
    send,
    close: () => {
      agents.http.destroy()
      agents.https.destroy()
    }
  }
}
