// Minimal forwarders the gateway is compared with, in the gateway's own
// process, to split what a request through the gateway costs into its
// layers. Each checks the key, reads the body, drops the client's connection
// and credential headers with the gateway's own filter (`upstreamHeaders`)
// and writes the answer back as it arrives:
//   - pipe: node:http in, a keep-alive node:http request out, piped; signed
//     with the bearer, the OAuth beta and a User-Agent. One hop, nothing else.
//   - fetch: node:http in, global fetch (undici, as the gateway) out, signed
//     the same way.
//   - request path: node:http in, the gateway's upstream out (the opencode
//     plugin's AuthorizedFetch with the gateway's options): the gateway
//     without its own guard, routing and body cap.
//   - platform: @effect/platform's NodeHttpServer handler (as the gateway
//     first built it, before these rows moved it to plain node:http) in, signed fetch out, `HttpServerResponse.fromWeb`: the
//     gateway without the request path. With `bufferJson`, an answer that is
//     not an event stream is read whole and sent as one Uint8Array body
//     instead (a candidate fix: fromWeb turns every body into an Effect
//     Stream, written chunk by chunk).
import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse
} from "node:http"
import type { AddressInfo } from "node:net"
import * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import type * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Envelope from "../src/Envelope.js"
import { clientHeaders, readBody, upstreamHeaders } from "../src/internal/forward.js"

export interface Signing {
  readonly upstream: string
  readonly key: string
  readonly login: AuthorizedFetch.OAuthLogin
  readonly settings: OAuthConfig.Settings
}

export interface Forwarder {
  readonly url: string
  readonly close: () => Promise<void>
}

const RESPONSE_DROPPED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-encoding",
  "content-length"
])

const signed = (incoming: Headers.Headers, signing: Signing): Record<string, string> => {
  const headers = upstreamHeaders(incoming)
  headers["authorization"] = `Bearer ${signing.login.access}`
  const beta = signing.settings.oauthBeta
  const betas = (headers["anthropic-beta"] ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
  headers["anthropic-beta"] = (betas.includes(beta) ? betas : [...betas, beta]).join(",")
  headers["user-agent"] = signing.settings.userAgent.messages
  return headers
}

const headersOf = (incoming: IncomingHttpHeaders) => Headers.fromInput(incoming as Record<string, string>)

const refuse = (res: ServerResponse) => {
  res.writeHead(401, { "content-type": "application/json" })
  res.end('{"type":"error","error":{"type":"authentication_error","message":"wrong key"}}')
}

const serve = (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Forwarder> =>
  new Promise((resolve, reject) => {
    const server: Server = createServer({ keepAliveTimeout: 5_000 }, handler)
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    )
  })

/** node:http in and out, piped. */
export const pipe = (signing: Signing): Promise<Forwarder> => {
  const agent = new Agent({ keepAlive: true })
  const target = new URL(signing.upstream)
  return serve((req, res) => {
    if (req.headers["x-api-key"] !== signing.key) return refuse(res)
    const headers = signed(headersOf(req.headers), signing)
    const length = req.headers["content-length"]
    if (length !== undefined) headers["content-length"] = length
    const out = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent },
      (answer) => {
        const back: Record<string, string | Array<string>> = {}
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !RESPONSE_DROPPED.has(name)) back[name] = value
        }
        res.writeHead(answer.statusCode ?? 502, back)
        answer.pipe(res)
      }
    )
    out.on("error", () => res.destroy())
    req.pipe(out)
  })
}

type Upstream = (url: string, init: RequestInit) => Promise<Response>

/** node:http in, `upstream` out, the answer written back chunk by chunk. */
const nodeHttp = (
  signing: Signing,
  upstream: Upstream,
  headers: (incoming: Headers.Headers) => Record<string, string>
): Promise<Forwarder> =>
  serve(async (req, res) => {
    if (req.headers["x-api-key"] !== signing.key) return refuse(res)
    try {
      const body = await readBody(req, 32 * 1024 * 1024)
      const response = await upstream(signing.upstream + (req.url ?? "/"), {
        method: req.method ?? "POST",
        headers: headers(headersOf(req.headers)),
        body
      })
      const back = clientHeaders(response.headers)
      res.writeHead(response.status, back)
      if (response.body) for await (const chunk of response.body) res.write(chunk)
      res.end()
    } catch {
      res.destroy()
    }
  })

/** node:http in, signed global fetch out. */
export const fetchForwarder = (signing: Signing): Promise<Forwarder> =>
  nodeHttp(signing, fetch, (h) => signed(h, signing))

/** node:http in, the gateway's request path (AuthorizedFetch as Gateway.app makes it) out. */
export const requestPath = (signing: Signing): Promise<Forwarder> => {
  const upstream = AuthorizedFetch.make({
    accounts: [signing.login],
    settings: signing.settings,
    errorResponse: (c) =>
      Envelope.errorResponse(c, { now: Date.now(), waitCapMs: AuthorizedFetch.DEFAULT_RETRY_AFTER_CAP_MS }),
    streamErrors: "pass"
  })
  return nodeHttp(signing, upstream, upstreamHeaders)
}

/** @effect/platform in (as the gateway), signed fetch out. */
export const platform = async (signing: Signing, options: { readonly bufferJson: boolean }): Promise<Forwarder> => {
  const runtime = ManagedRuntime.make(NodeHttpServer.layerContext)
  const app = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.headers["x-api-key"] !== signing.key)
      return HttpServerResponse.fromWeb(Envelope.own(401, "authentication_error", "wrong key"))
    const body = yield* Effect.promise(() =>
      readBody(NodeHttpServerRequest.toIncomingMessage(request), 32 * 1024 * 1024)
    )
    const response = yield* Effect.promise(() =>
      fetch(signing.upstream + request.url, { method: request.method, headers: signed(request.headers, signing), body })
    )
    const contentType = response.headers.get("content-type") ?? ""
    if (options.bufferJson && !contentType.startsWith("text/event-stream")) {
      const bytes = new Uint8Array(yield* Effect.promise(() => response.arrayBuffer()))
      return HttpServerResponse.uint8Array(bytes, {
        status: response.status,
        headers: Headers.fromInput(clientHeaders(response.headers)),
        contentType
      })
    }
    return HttpServerResponse.fromWeb(
      new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: clientHeaders(response.headers)
      })
    )
  })
  const handler = await runtime.runPromise(NodeHttpServer.makeHandler(app))
  const forwarder = await serve(handler)
  return { url: forwarder.url, close: () => forwarder.close().then(() => runtime.dispose()) }
}
