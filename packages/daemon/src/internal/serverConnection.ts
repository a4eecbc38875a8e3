/**
 * One connection: read one request line under a size cap and a deadline,
 * answer it with one reply line, close. Nothing a client sends can throw out of
 * here, and nothing it sends is logged: requests may carry response headers.
 */
import type { Socket } from "node:net"
import * as Protocol from "../Protocol.js"
import { errorCode } from "./serverDir.js"

/** @internal */
export interface ConnectionOptions {
  readonly handle: (request: Protocol.Request) => Promise<Protocol.Reply>
  readonly maxRequestBytes: number
  readonly readDeadlineMs: number
  readonly log: (line: string) => void
}

const NEWLINE = 0x0a

const failure = (code: Protocol.ErrorCode, message: string): Protocol.Reply => ({
  v: 1,
  ok: false,
  error: { code, message }
})

// Hang-ups mid-conversation are what clients on a 100 ms budget do; not worth a log line.
const ORDINARY_HANGUPS = new Set(["ECONNRESET", "EPIPE"])

/** @internal */
export const serve = (socket: Socket, options: ConnectionOptions): void => {
  const { log, maxRequestBytes } = options
  const chunks: Array<Buffer> = []
  let size = 0
  // reading → answering (one reply, then close); or reading → draining (an
  // oversized request: refused, and the rest is discarded until the client
  // stops or the deadline, so it can read why instead of hitting EPIPE).
  let state: "reading" | "answering" | "draining" = "reading"

  const deadline = setTimeout(() => {
    // A client that sent nothing gets nothing, and is not worth a line either.
    if (state === "reading" && size > 0) {
      log(
        `tollgate daemon: closed a connection that sent ${size} bytes but no whole request within ${options.readDeadlineMs} ms`
      )
    }
    socket.destroy()
  }, options.readDeadlineMs)

  const reply = (answer: Protocol.Reply, then: "destroy" | "linger") => {
    if (socket.destroyed || !socket.writable) return
    // Destroying once the reply is flushed also covers clients that never half-close after reading it.
    socket.end(`${JSON.stringify(answer)}\n`, then === "destroy" ? () => socket.destroy() : undefined)
  }

  const tooLarge = () => {
    state = "draining"
    chunks.length = 0
    log(`tollgate daemon: refused a request over ${maxRequestBytes} bytes`)
    reply(failure("too_large", `requests are limited to ${maxRequestBytes} bytes`), "linger")
  }

  const answer = (line: Buffer) => {
    state = "answering"
    clearTimeout(deadline)
    let json: unknown
    try {
      json = JSON.parse(line.toString("utf8"))
    } catch {
      log(`tollgate daemon: refused ${line.length} bytes that are not JSON`)
      return reply(failure("bad_json", "a request is one line of JSON"), "destroy")
    }
    const request = Protocol.parseRequest(json)
    if ("error" in request) {
      log(`tollgate daemon: refused a request (${request.error})`)
      return reply(failure(request.error, request.message), "destroy")
    }
    // `then` also catches a handler that throws synchronously.
    Promise.resolve()
      .then(() => options.handle(request))
      .then(
        (answer) => reply(answer, "destroy"),
        (error: unknown) => {
          // The name only: a handler's message is not ours to vouch for.
          log(
            `tollgate daemon: a ${request.op} request failed inside the daemon (${error instanceof Error ? error.name : typeof error})`
          )
          reply(failure("internal", "the daemon could not answer this request"), "destroy")
        }
      )
      // `reply` itself cannot throw on a closed socket, but never leave a rejection unhandled.
      .catch(() => socket.destroy())
  }

  socket.on("data", (chunk: Buffer) => {
    if (state !== "reading") return
    const newline = chunk.indexOf(NEWLINE)
    const head = newline === -1 ? chunk : chunk.subarray(0, newline)
    size += head.length
    if (size > maxRequestBytes) return tooLarge()
    chunks.push(head)
    if (newline !== -1) answer(Buffer.concat(chunks, size))
  })

  // A client may half-close instead of sending the newline.
  socket.on("end", () => {
    if (state === "reading" && size > 0) return answer(Buffer.concat(chunks, size))
    // Sent nothing, or done sending an oversized request (its refusal is already on the way).
    if (state !== "answering") socket.end(() => socket.destroy())
  })

  socket.on("error", (error) => {
    const code = errorCode(error) ?? "unknown"
    if (!ORDINARY_HANGUPS.has(code)) log(`tollgate daemon: connection error ${code}`)
  })

  socket.on("close", () => clearTimeout(deadline))
}
