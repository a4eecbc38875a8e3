// A scripted HTTP server on 127.0.0.1 for core's own tests: each request takes
// the next scripted reply (or the fallback) and is recorded.
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string | Uint8Array
  /** `reset` destroys the socket, `hang` never answers, `stall` sends half the body then stops. */
  readonly fault?: "reset" | "hang" | "stall"
  readonly delayMs?: number
}

export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

export interface ScriptedServer {
  readonly url: string
  readonly requests: Array<Recorded>
  script(...replies: Array<Reply>): void
  /** Forgets scripted replies and recorded requests. */
  reset(): void
  fallback(reply: Reply | ((req: Recorded) => Reply)): void
  close(): Promise<void>
}

export const startServer = async (): Promise<ScriptedServer> => {
  const queue: Array<Reply> = []
  let fallback: Reply | ((req: Recorded) => Reply) = { status: 500, body: "no scripted reply" }
  const requests: Array<Recorded> = []
  const sockets = new Set<import("node:net").Socket>()
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const recorded: Recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8")
      }
      requests.push(recorded)
      const reply = queue.shift() ?? (typeof fallback === "function" ? fallback(recorded) : fallback)
      const send = () => {
        if (reply.fault === "reset") return req.socket.destroy()
        if (reply.fault === "hang") return
        const body = reply.body ?? ""
        const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body)
        res.writeHead(reply.status, { "content-length": String(bytes.length), ...reply.headers })
        if (reply.fault === "stall") return res.write(bytes.subarray(0, Math.floor(bytes.length / 2)))
        res.end(bytes)
      }
      if (reply.delayMs) setTimeout(send, reply.delayMs)
      else send()
    })
  })
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    reset: () => {
      queue.length = 0
      requests.length = 0
    },
    fallback: (reply) => {
      fallback = reply
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
