/**
 * The answer as the client gets it: a whole answer in one write with its
 * length, an event stream passed through at the client's pace, and the
 * gateway's own small JSON answers.
 */
import { isEventStream } from "@tollgate/core/Classify"
import type { IncomingMessage, ServerResponse } from "node:http"
import { clientHeaders } from "./forward.js"

type Incoming = Readonly<Record<string, string>>

// Node's header record with repeated headers joined, as one string each.
export const headersOf = (req: IncomingMessage): Incoming => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

// Writes the answer to the client: a whole answer (JSON, an envelope) in one write, an event stream as it comes.
export const write = async (res: ServerResponse, response: Response): Promise<void> => {
  const headers = clientHeaders(response.headers)
  if (response.body === null || !isEventStream(headers["content-type"])) {
    const bytes = response.body === null ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer())
    res.writeHead(response.status, { ...headers, "content-length": String(bytes.length) })
    res.end(bytes)
    return
  }
  res.writeHead(response.status, headers)
  // Each event as it comes, with the client's pace (a full socket buffer waits for `drain`); a client that goes away
  // cancels the upstream stream.
  const reader = response.body.getReader()
  const gone = () => void reader.cancel().catch(() => undefined)
  res.once("close", gone)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || res.destroyed) break
      if (!res.write(value))
        await new Promise<void>((resolve) => {
          const settle = () => {
            res.off("drain", settle)
            res.off("close", settle)
            resolve()
          }
          res.once("drain", settle)
          res.once("close", settle)
        })
    }
    res.end()
  } catch {
    // The upstream stream broke off: the client sees the connection end without a final event.
    res.destroy()
  } finally {
    res.off("close", gone)
  }
}

export const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) })
  res.end(text)
}
