/**
 * The gateway: a loopback Anthropic API endpoint for any runtime. A client
 * sends its requests to `http://127.0.0.1:PORT/v1/…` (or the same paths
 * under `/anthropic`, for Hermes) with the gateway key; the gateway drops the
 * key and sends the request upstream on the opencode plugin's request path
 * (`@tollgate/requests/AuthorizedFetch`, the same account list, refresh
 * single flight and failover), signed with the subscription login. Every
 * decision is core's verdict: refresh ahead of expiry and once on an
 * expired-token 401 (the buffered body is replayed), the next account on a
 * cap, an org policy or extra usage, and otherwise Anthropic's error
 * envelope under the upstream status with core's message. Streams are
 * passed through as they arrive.
 *
 * The server is plain `node:http` (see {@link handler} for what the
 * benchmark measured), owned here so a stop can drain: no new connections,
 * every request in flight finishes, up to a deadline.
 *
 * @since 0.1.0
 */
import * as C from "@tollgate/core/Classification"
import { classify, transportReasonOf } from "@tollgate/core/Classify"
import type * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as UnifiedHeaders from "@tollgate/core/UnifiedHeaders"
import type * as AccountStore from "@tollgate/requests/AccountStore"
import * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"
import type * as DaemonForwarder from "@tollgate/requests/DaemonForwarder"
import * as StatusCommand from "@tollgate/requests/StatusCommand"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as Envelope from "./Envelope.js"
import * as GatewayKey from "./GatewayKey.js"
import { readBody, TooLarge, upstreamHeaders } from "./internal/forward.js"
import { foreign, presented } from "./internal/guard.js"
import { headersOf, json, write } from "./internal/respond.js"
import * as Transport from "./internal/transport.js"

/** Anthropic's own limit on a Messages request. @since 0.1.0 */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

/** How long an upstream answer may take to begin (a long non-streaming request included). @since 0.1.0 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10 * 60_000

/** How often the shared account state is read, and an unchanged healthy answer written, under load. @since 0.1.0 */
export const STATE_EVERY_MS = 2_000

/** How long a stop waits for requests in flight (streams included) before closing them. @since 0.1.0 */
export const DEFAULT_DRAIN_MS = 30_000

/**
 * What `handler` needs: the accounts, the gateway key, the upstream settings, and
 * limits on bodies, headers and waits.
 *
 * @since 0.1.0
 */
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
  /** How requests go upstream; default `node:http`/`node:https` with keep-alive agents of this handler's own. */
  readonly transport?: ((input: string | URL, init: RequestInit) => Promise<Response>) | undefined
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
  return c._tag === "Ok"
    ? new C.Transport({
        endpoint: "messages",
        status: null,
        action: "backoff",
        retryable: true,
        retryAfterMs: null,
        requestId: null,
        reason: "other"
      })
    : c
}

/**
 * The gateway's request handler for a `node:http` server.
 *
 * It is a plain `node:http` handler rather than an @effect/platform
 * `HttpApp`: `pnpm --filter @tollgate/gateway bench` measured the platform's
 * server (`NodeHttpServer.makeHandler`) adding 0.4 ms per request over plain
 * `node:http` when a whole answer is written at once, and 1.5 ms when bodies
 * go through `HttpServerResponse.fromWeb`'s Effect stream — on a budget of
 * 0.5 ms for the whole gateway. For the same reason requests go upstream
 * with `node:http` rather than fetch (`internal/transport.ts`). Effect still
 * runs the request path behind it (refresh single flight, backoff, the OAuth
 * client).
 *
 * @since 0.1.0
 */
export const handler = (options: Options): ((req: IncomingMessage, res: ServerResponse) => void) => {
  const log = options.log ?? (() => undefined)
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const headersTimeoutMs = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS
  const waitCapMs = options.retryAfterCapMs ?? AuthorizedFetch.DEFAULT_RETRY_AFTER_CAP_MS
  const keyMatches = GatewayKey.matcher(options.key)
  const base = options.settings.apiBaseUrl.replace(/\/+$/, "")
  const answer = (c: C.Failure, where?: string) => {
    const response = Envelope.errorResponse(c, { now: Date.now(), waitCapMs })
    log(
      `tollgate gateway: ${where === undefined ? "" : `${where} `}answered ${response.status} ${c._tag}: ${c.message}`
    )
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
    transport: options.transport ?? Transport.make().send,
    errorEvent: (c) => {
      log(`tollgate gateway: a stream reported ${c._tag}: ${c.message}`)
      return Envelope.errorEvent(c)
    },
    onSwitch: (event) => log(`tollgate gateway: now serving from account #${event.to + 1} (${event.reason})`)
  })
  const statusBody = async () => ({
    gateway: {
      version: 1,
      pid: process.pid,
      apiBaseUrl: options.settings.apiBaseUrl,
      accounts: options.describeAccounts ?? []
    },
    seen: StatusCommand.snapshot(),
    shared: options.store ? await StatusCommand.readState(options.store.path) : null
  })

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers = headersOf(req)
    const method = req.method ?? "GET"
    const url = req.url ?? "/"
    const refused = foreign(headers)
    if (refused !== null) {
      log(refused)
      return write(res, Envelope.own(403, "permission_error", refused))
    }
    if (!keyMatches(presented(headers))) {
      return write(
        res,
        Envelope.own(
          401,
          "authentication_error",
          "tollgate gateway: missing or wrong gateway key; `tollgate gateway key` prints it (send it as x-api-key or a bearer token)"
        )
      )
    }
    const target = route(method, url)
    if (target._tag === "Status") return json(res, 200, await statusBody())
    if (target._tag === "Unknown") {
      return write(
        res,
        Envelope.own(
          404,
          "not_found_error",
          `tollgate gateway: ${method} ${url.split("?")[0]} is not an Anthropic API path (use /v1/… or /anthropic/v1/…)`
        )
      )
    }
    const where = `${method} ${target.path.split("?")[0]}`
    let body: Uint8Array | null
    try {
      body = method === "GET" || method === "HEAD" ? null : await readBody(req, maxBodyBytes)
    } catch (error) {
      if (error instanceof TooLarge)
        return write(res, Envelope.own(413, "request_too_large", `tollgate gateway: ${error.message}`))
      return write(res, answer(transportFailure(error), where))
    }
    const controller = new AbortController()
    // The client went away: so does the upstream request.
    const gone = () => {
      if (!res.writableEnded) controller.abort(new Error("aborted: the client closed the connection"))
    }
    res.once("close", gone)
    const timer = setTimeout(() => controller.abort(new Error("timeout: no answer began in time")), headersTimeoutMs)
    let response: Response
    try {
      response = await upstream(base + target.path, {
        method,
        headers: upstreamHeaders(headers),
        body,
        signal: controller.signal
      })
    } catch (error) {
      if (controller.signal.aborted && res.destroyed) return
      response = answer(transportFailure(error), where)
    } finally {
      clearTimeout(timer)
    }
    return write(res, response)
  }

  return (req, res) => {
    serve(req, res).catch((error: unknown) => {
      // Never a crash, never a secret: what went wrong, in one line, and a 502 if nothing was sent yet.
      log(`tollgate gateway: internal error: ${error instanceof Error ? error.name : "unknown"}`)
      if (!res.headersSent)
        json(res, 502, { type: "error", error: { type: "api_error", message: "tollgate gateway: internal error" } })
      else res.destroy()
    })
  }
}

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

/** {@link Options} plus where `listen` binds: a loopback host and port, and optionally a Unix socket. @since 0.1.0 */
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
  const transport = Transport.make()
  const handle = handler({ ...options, transport: options.transport ?? transport.send })
  let inFlight = 0
  const idle = new Set<() => void>()
  const track = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++
    res.once("close", () => {
      inFlight--
      if (inFlight === 0) for (const done of idle) done()
    })
    handle(req, res)
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
          log(
            `tollgate gateway: stopping; waiting up to ${Math.round(drainMs / 1000)} s for ${inFlight} request(s) in flight`
          )
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
        transport.close()
        if (socket !== null) await import("node:fs/promises").then((fs) => fs.unlink(socket)).catch(() => undefined)
      })())
  }
}
