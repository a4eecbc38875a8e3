/**
 * The request as it goes upstream and the response as it comes back:
 * hop-by-hop headers and anything that describes the client's own
 * connection or credentials stay behind; the body is read into memory up to
 * a cap, so a request can be sent again after a refresh or on another
 * account.
 */
import type { IncomingMessage } from "node:http"

// Never forwarded: hop-by-hop, the client's connection, cookies, its credentials (the account's go on instead).
const REQUEST_DROPPED = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "accept-encoding",
  "cookie",
  "origin",
  "referer",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "x-api-key",
  "authorization",
  "user-agent"
])

// fetch has already decoded the body and framed it itself.
const RESPONSE_DROPPED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-encoding",
  "content-length",
  "set-cookie",
  "trailer",
  "upgrade"
])

/** The client's headers as they go upstream (before the account's credential is added). */
export const upstreamHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const listed = new Set((headers["connection"] ?? "").split(",").map((h) => h.trim().toLowerCase()))
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (REQUEST_DROPPED.has(name) || listed.has(name)) continue
    out[name] = value
  }
  // No compression on the loopback leg: fetch would only have to undo it.
  out["accept-encoding"] = "identity"
  return out
}

/** The upstream response's headers as the client gets them. */
export const clientHeaders = (headers: globalThis.Headers): Record<string, string> => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (!RESPONSE_DROPPED.has(name)) out[name] = value
  })
  return out
}

/** The body was larger than the cap. */
export class TooLarge extends Error {
  readonly _tag = "TooLarge"
  constructor(readonly maxBytes: number) {
    super(`the request body is larger than the gateway's ${maxBytes} bytes`)
  }
}

/** The whole body, or {@link TooLarge} as soon as it passes `maxBytes` (the rest is not read). */
export const readBody = (incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array | null> =>
  new Promise((resolve, reject) => {
    const declared = Number(incoming.headers["content-length"] ?? "0")
    if (Number.isFinite(declared) && declared > maxBytes) return reject(new TooLarge(maxBytes))
    const chunks: Array<Buffer> = []
    let size = 0
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        incoming.removeAllListeners("data")
        incoming.pause()
        return reject(new TooLarge(maxBytes))
      }
      chunks.push(chunk)
    })
    incoming.once("end", () => resolve(size === 0 ? null : Buffer.concat(chunks, size)))
    incoming.once("error", reject)
  })
