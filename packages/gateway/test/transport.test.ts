// The gateway's upstream hop (node:http instead of fetch) must answer the
// way fetch does, so the shared request path cannot tell them apart: a
// compressed body decoded, bodies of no-content statuses absent, an event
// stream delivered as it arrives, an abort and a refused connection thrown
// with the reason core reads. Real servers on 127.0.0.1.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { gzipSync, brotliCompressSync } from "node:zlib"
import { transportReasonOf } from "@tollgate/core/Classify"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Transport from "../src/internal/transport.js"

let url = ""
let close: () => Promise<void> = async () => undefined
const seen: Array<{ method: string; headers: IncomingMessage["headers"]; body: string }> = []
const transport = Transport.make()

const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
  "/json": (_req, res, body) => {
    res.writeHead(200, { "content-type": "application/json", "x-echo-length": String(body.length) })
    res.end(JSON.stringify({ ok: true }))
  },
  "/gzip": (_req, res) => {
    const bytes = gzipSync(Buffer.from(JSON.stringify({ packed: "gzip" })))
    res.writeHead(200, {
      "content-type": "application/json",
      "content-encoding": "gzip",
      "content-length": String(bytes.length)
    })
    res.end(bytes)
  },
  "/br": (_req, res) => {
    res.writeHead(429, { "content-type": "application/json", "content-encoding": "br", "retry-after": "7" })
    res.end(
      brotliCompressSync(
        Buffer.from(JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }))
      )
    )
  },
  "/empty": (_req, res) => {
    res.writeHead(204, { "x-kind": "empty" })
    res.end()
  },
  "/stream": (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" })
    res.write("event: message_start\ndata: {}\n\n")
    // The second event only once the test has read the first: a buffering transport would hang here.
    streamWaiting = () => res.end("event: message_stop\ndata: {}\n\n")
  },
  "/slow": () => {
    // Never answers: the abort test stops it.
  },
  "/cut": (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
    res.write('{"partial":')
    res.destroy()
  }
}
let streamWaiting: (() => void) | null = null

beforeAll(async () => {
  const server = createServer((req, res) => {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (c: string) => (body += c))
    req.on("end", () => {
      seen.push({ method: req.method ?? "", headers: req.headers, body })
      routes[req.url ?? ""]?.(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
})

afterAll(async () => {
  transport.close()
  await close()
})

describe("the node:http transport answers as fetch does", () => {
  it("sends method, headers and a buffered body with its length; reads a JSON answer whole", async () => {
    const response = await transport.send(`${url}/json`, {
      method: "POST",
      headers: new Headers({ "content-type": "application/json", authorization: "Bearer abc" }),
      body: new TextEncoder().encode('{"hello":"world"}')
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("x-echo-length")).toBe("17")
    expect(await response.json()).toEqual({ ok: true })
    const last = seen.at(-1)!
    expect(last.method).toBe("POST")
    expect(last.headers["content-length"]).toBe("17")
    expect(last.headers["authorization"]).toBe("Bearer abc")
    expect(last.body).toBe('{"hello":"world"}')
  })

  it("decodes gzip and brotli bodies and drops content-encoding and content-length", async () => {
    const gzip = await transport.send(`${url}/gzip`)
    expect(gzip.headers.get("content-encoding")).toBeNull()
    expect(gzip.headers.get("content-length")).toBeNull()
    expect(await gzip.json()).toEqual({ packed: "gzip" })
    const br = await transport.send(`${url}/br`)
    expect(br.status).toBe(429)
    expect(br.headers.get("retry-after")).toBe("7")
    expect(((await br.json()) as { error: { message: string } }).error.message).toBe("slow down")
  })

  it("a 204 has no body (fetch's Response refuses one)", async () => {
    const response = await transport.send(`${url}/empty`)
    expect(response.status).toBe(204)
    expect(response.body).toBeNull()
    expect(response.headers.get("x-kind")).toBe("empty")
  })

  it("an event stream arrives event by event, not when it ends", async () => {
    const response = await transport.send(`${url}/stream`)
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toContain("message_start")
    expect(streamWaiting).not.toBeNull()
    streamWaiting!()
    let rest = ""
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    expect(rest).toContain("message_stop")
  })

  it("an abort rejects with its reason, which core reads as aborted", async () => {
    const controller = new AbortController()
    const pending = transport.send(`${url}/slow`, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error("aborted: the test stopped waiting")), 20)
    const thrown = await pending.then(
      () => null,
      (e: unknown) => e
    )
    expect(transportReasonOf(thrown)).toBe("aborted")
  })

  it("a refused connection and an answer cut short reject with what core reads as connect and reset", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer()
      probe.listen(0, "127.0.0.1", () => {
        const p = (probe.address() as AddressInfo).port
        probe.close(() => resolve(p))
      })
    })
    const refused = await transport.send(`http://127.0.0.1:${port}/json`).then(
      () => null,
      (e: unknown) => e
    )
    expect(transportReasonOf(refused)).toBe("connect")
    const cut = await transport.send(`${url}/cut`).then(
      () => null,
      (e: unknown) => e
    )
    expect(transportReasonOf(cut)).toBe("reset")
  })

  it("a body it cannot send again (a stream) is refused with a typed error, nothing sent", async () => {
    const before = seen.length
    const thrown = await transport
      .send(`${url}/json`, {
        method: "POST",
        body: new ReadableStream() as unknown as NonNullable<RequestInit["body"]>
      })
      .then(
        () => null,
        (e: unknown) => e
      )
    expect(thrown).toBeInstanceOf(TypeError)
    expect(seen.length).toBe(before)
  })
})
