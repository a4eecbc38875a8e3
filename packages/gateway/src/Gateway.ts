/**
 * The gateway: a loopback Anthropic API endpoint for any runtime. A client
 * sends its requests to `http://127.0.0.1:PORT/v1/…` (or the same paths
 * under `/anthropic`, for Hermes) with the gateway key; the gateway drops the
 * key and sends the request upstream on the opencode plugin's request path
 * (`@tollgate/opencode/AuthorizedFetch`, the same account list, refresh
 * single flight and failover), signed with the subscription login. Every
 * decision is core's verdict: refresh ahead of expiry and once on an
 * expired-token 401 (the buffered body is replayed), the next account on a
 * cap, an org policy or extra usage, and otherwise Anthropic's error
 * envelope under the upstream status with core's message. Streams are
 * passed through as they arrive.
 *
 * The server is @effect/platform's (`NodeHttpServer.makeHandler` on a
 * `node:http` server we own, so a stop can drain: no new connections, every
 * request in flight finishes, up to a deadline).
 *
 * @since 0.1.0
 */
import * as PlatformHeaders from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import * as C from "@tollgate/core/Classification"
import { classify, transportReasonOf } from "@tollgate/core/Classify"
import type * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as UnifiedHeaders from "@tollgate/core/UnifiedHeaders"
import type * as AccountStore from "@tollgate/opencode/AccountStore"
import * as AuthorizedFetch from "@tollgate/opencode/AuthorizedFetch"
import type * as DaemonForwarder from "@tollgate/opencode/DaemonForwarder"
import * as StatusCommand from "@tollgate/opencode/StatusCommand"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Layer from "effect/Layer"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as Envelope from "./Envelope.js"
import * as GatewayKey from "./GatewayKey.js"
import { clientHeaders, readBody, TooLarge, upstreamHeaders } from "./internal/forward.js"
import { foreign, presented } from "./internal/guard.js"

/** Anthropic's own limit on a Messages request. @since 0.1.0 */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

/** How long an upstream answer may take to begin (a long non-streaming request included). @since 0.1.0 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10 * 60_000

/** How often the shared account state is read, and an unchanged healthy answer written, under load. @since 0.1.0 */
export const STATE_EVERY_MS = 2_000

/** How long a stop waits for requests in flight (streams included) before closing them. @since 0.1.0 */
export const DEFAULT_DRAIN_MS = 30_000

/** @since 0.1.0 */
export interface Options {
  /** Logins in preference order (`Config.load`); the same failover rules as the opencode plugin. */
  readonly accounts: ReadonlyArray<AuthorizedFetch.Login>
  /** The gateway key clients must present. */
  readonly key: string
  /** Base URLs, User-Agents… (core's `OAuthConfig`); requests go to `settings.apiBaseUrl`. */
  readonly settings: OAuthConfig.Settings
  readonly maxBodyBytes?: number | undefined
  readonly headersTimeoutMs?: number | undefined
  /** The longest wait the gateway sits out itself before one resend (default the plugin's 10 s). */
  readonly retryAfterCapMs?: number | undefined
  /** Per-account state shared across processes and restarts. */
  readonly store?: AccountStore.AccountStore | null | undefined
  /** Where the unified rate-limit headers of every answer go (the daemon). */
  readonly forwarder?: DaemonForwarder.Forwarder | null | undefined
  /** One line per event worth a line (start, stop, a failure with core's message); never a credential. */
  readonly log?: ((line: string) => void) | undefined
  /** Describes the configured accounts for `GET /tollgate/status` (no secrets). */
  readonly describeAccounts?: ReadonlyArray<Readonly<Record<string, unknown>>> | undefined
}

/** The daemon hears from the gateway at most this often, unless the unified status changes. @since 0.1.0 */
export const FORWARD_EVERY_MS = 1_000

// A request per millisecond must not mean a socket connection per millisecond.
const throttled = (forwarder: DaemonForwarder.Forwarder): DaemonForwarder.Forwarder => {
  let last = Number.NEGATIVE_INFINITY
  let status: UnifiedHeaders.Status | null = null
  return {
    forward: (headers) => {
      const now = Date.now()
      const next = UnifiedHeaders.parse(headers).status
      if (now - last < FORWARD_EVERY_MS && next === status) return false
      const sent = forwarder.forward(headers)
      if (sent) {
        last = now
        status = next
      }
      return sent
    }
  }
}

type Route =
  | { readonly _tag: "Forward"; readonly path: string }
  | { readonly _tag: "Status" }
  | { readonly _tag: "Unknown" }

const route = (method: string, url: string): Route => {
  const q = url.indexOf("?")
  const path = q === -1 ? url : url.slice(0, q)
  const search = q === -1 ? "" : url.slice(q)
  if (path === "/tollgate/status" && method === "GET") return { _tag: "Status" }
  const inner = path.startsWith("/anthropic/") ? path.slice("/anthropic".length) : path
  if (inner.startsWith("/v1/")) return { _tag: "Forward", path: inner + search }
  return { _tag: "Unknown" }
}

const transportFailure = (thrown: unknown): C.Failure => {
  const c = classify({ endpoint: "messages", status: null, transportError: transportReasonOf(thrown), now: Date.now() })
  return c._tag === "Ok" ? new C.Transport({ endpoint: "messages", status: null, action: "backoff", retryable: true, retryAfterMs: null, requestId: null, reason: "other" }) : c
}

/**
 * The gateway as an @effect/platform HTTP app.
 *
 * @since 0.1.0
 */
export const app = (options: Options) => {
  const log = options.log ?? (() => undefined)
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const headersTimeoutMs = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS
  const waitCapMs = options.retryAfterCapMs ?? AuthorizedFetch.DEFAULT_RETRY_AFTER_CAP_MS
  const keyMatches = GatewayKey.matcher(options.key)
  const answer = (c: C.Failure, where?: string) => {
    const response = Envelope.errorResponse(c, { now: Date.now(), waitCapMs })
    log(`tollgate gateway: ${where === undefined ? "" : `${where} `}answered ${response.status} ${c._tag}: ${c.message}`)
    return response
  }
  const upstream = AuthorizedFetch.make({
    accounts: options.accounts,
    settings: options.settings,
    retryAfterCapMs: waitCapMs,
    store: options.store ?? null,
    forwarder: options.forwarder ? throttled(options.forwarder) : null,
    errorResponse: (c) => answer(c),
    streamErrors: "pass",
    // A healthy answer is written to the shared state every few seconds, not on every request.
    stateEveryMs: STATE_EVERY_MS,
    errorEvent: (c) => {
      log(`tollgate gateway: a stream reported ${c._tag}: ${c.message}`)
      return Envelope.errorEvent(c)
    },
    onSwitch: (event) => log(`tollgate gateway: now serving from account #${event.to + 1} (${event.reason})`)
  })
  const statusBody = async () => ({
    gateway: { version: 1, pid: process.pid, apiBaseUrl: options.settings.apiBaseUrl, accounts: options.describeAccounts ?? [] },
    seen: StatusCommand.snapshot(),
    shared: options.store ? await StatusCommand.readState(options.store.path) : null
  })

  return Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const refused = foreign(request.headers)
    if (refused !== null) {
      log(refused)
      return HttpServerResponse.fromWeb(Envelope.own(403, "permission_error", refused))
    }
    if (!keyMatches(presented(request.headers))) {
      return HttpServerResponse.fromWeb(
        Envelope.own(401, "authentication_error", "tollgate gateway: missing or wrong gateway key; `tollgate gateway key` prints it (send it as x-api-key or a bearer token)")
      )
    }
    const target = route(request.method, request.url)
    if (target._tag === "Status") return yield* HttpServerResponse.json(yield* Effect.promise(statusBody))
    if (target._tag === "Unknown") {
      return HttpServerResponse.fromWeb(
        Envelope.own(404, "not_found_error", `tollgate gateway: ${request.method} ${request.url.split("?")[0]} is not an Anthropic API path (use /v1/… or /anthropic/v1/…)`)
      )
    }
    const where = `${request.method} ${target.path.split("?")[0]}`
    const incoming = NodeHttpServerRequest.toIncomingMessage(request)
    const body = yield* Effect.tryPromise({
      try: () => (request.method === "GET" || request.method === "HEAD" ? Promise.resolve(null) : readBody(incoming, maxBodyBytes)),
      catch: (error) => error
    }).pipe(Effect.either)
    if (body._tag === "Left") {
      if (body.left instanceof TooLarge) {
        return HttpServerResponse.fromWeb(Envelope.own(413, "request_too_large", `tollgate gateway: ${body.left.message}`))
      }
      return HttpServerResponse.fromWeb(answer(transportFailure(body.left), where))
    }
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new Error("timeout: no answer began in time")), headersTimeoutMs)
    const response = yield* Effect.tryPromise({
      try: () =>
        upstream(options.settings.apiBaseUrl.replace(/\/+$/, "") + target.path, {
          method: request.method,
          headers: upstreamHeaders(request.headers),
          body: body.right,
          signal: controller.signal
        }),
      catch: (error) => error
    }).pipe(
      // The client went away: so does the upstream request.
      Effect.onInterrupt(() => Effect.sync(() => controller.abort())),
      Effect.ensuring(Effect.sync(() => clearTimeout(timer))),
      Effect.catchAll((error) => Effect.succeed(answer(transportFailure(error), where)))
    )
    const headers = clientHeaders(response.headers)
    if (!isEventStream(headers) || response.body === null) {
      // A whole answer (JSON, an error envelope): read in one piece and written in one piece.
      const bytes = yield* Effect.promise(() => response.arrayBuffer().then((b) => new Uint8Array(b), () => new Uint8Array(0)))
      return HttpServerResponse.uint8Array(bytes, { status: response.status, headers: PlatformHeaders.fromInput(headers) })
    }
    return HttpServerResponse.fromWeb(new Response(response.body, { status: response.status, statusText: response.statusText, headers }))
  })
}

const isEventStream = (headers: globalThis.Headers): boolean =>
  (headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream")

/** Where a running gateway listens. @since 0.1.0 */
export interface Running {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string
  readonly port: number
  /** The Unix socket, when one was asked for. */
  readonly socket: string | null
  /** Requests being answered now (streams included). */
  readonly inFlight: () => number
  /**
   * Stops: refuses new connections at once, lets requests in flight finish
   * for up to `drainMs`, then closes what is left. Resolves when all is closed.
   */
  readonly close: (drainMs?: number) => Promise<void>
}

/** @since 0.1.0 */
export interface ListenOptions extends Options {
  /** Default 127.0.0.1; only loopback addresses are accepted. */
  readonly host?: string | undefined
  /** 0: any free port. */
  readonly port: number
  /** Also listen on this Unix socket (made 0600). */
  readonly socket?: string | null | undefined
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"])

/**
 * Starts the gateway on 127.0.0.1 (and a 0600 Unix socket when asked).
 *
 * @since 0.1.0
 */
export const listen = async (options: ListenOptions): Promise<Running> => {
  const host = options.host ?? "127.0.0.1"
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`tollgate gateway listens on loopback only, not "${host}"`)
  const runtime = ManagedRuntime.make(Layer.mergeAll(NodeHttpServer.layerContext))
  const handler = await runtime.runPromise(NodeHttpServer.makeHandler(app(options)))
  let inFlight = 0
  const idle = new Set<() => void>()
  const track = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++
    res.once("close", () => {
      inFlight--
      if (inFlight === 0) for (const done of idle) done()
    })
    handler(req, res)
  }
  const servers: Array<Server> = []
  const start = (listenOn: { port: number; host: string } | { path: string }) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer({ keepAliveTimeout: 5_000 }, track)
      server.once("error", reject)
      server.listen(listenOn, () => {
        server.off("error", reject)
        resolve(server)
      })
    })
  const tcp = await start({ port: options.port, host })
  servers.push(tcp)
  const socket = options.socket ?? null
  if (socket !== null) {
    const { chmod, unlink } = await import("node:fs/promises")
    await unlink(socket).catch(() => undefined)
    servers.push(await start({ path: socket }))
    await chmod(socket, 0o600)
  }
  const port = (tcp.address() as AddressInfo).port
  const log = options.log ?? (() => undefined)
  let closing: Promise<void> | null = null
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    socket,
    inFlight: () => inFlight,
    close: (drainMs = DEFAULT_DRAIN_MS) =>
      (closing ??= (async () => {
        const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
        for (const server of servers) server.closeIdleConnections()
        if (inFlight > 0) {
          log(`tollgate gateway: stopping; waiting up to ${Math.round(drainMs / 1000)} s for ${inFlight} request(s) in flight`)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, drainMs)
            function done() {
              clearTimeout(timer)
              idle.delete(done)
              resolve()
            }
            idle.add(done)
          })
        }
        for (const server of servers) server.closeAllConnections()
        await Promise.all(closed)
        if (socket !== null) await import("node:fs/promises").then((fs) => fs.unlink(socket)).catch(() => undefined)
        await runtime.dispose()
      })())
  }
}
