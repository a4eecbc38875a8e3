/**
 * A loopback Anthropic: the token endpoint, usage, profile and messages (JSON
 * and SSE) on one real HTTP server bound to 127.0.0.1, playing a scenario's
 * scripted responses first and otherwise behaving as the real service does —
 * refresh tokens rotate and die after one use, missing scopes get the scope
 * 403, a stale token on the usage endpoint gets 429, the token endpoint
 * punishes a missing or Claude Code User-Agent.
 *
 * Every request is recorded with tokens reduced to fingerprints. The server
 * stops on its own after a time-to-live or a request cap.
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import type { Endpoint } from "@tollgate/core/Endpoint"
import { find } from "./Catalog.js"
import { type Issued, TokenBook } from "./internal/accounts.js"
import { Handler, type RecordedRequest } from "./internal/handler.js"
import type { Scenario, Step } from "./Scenario.js"

/**
 * An account's login as the simulator issued it (tokens, expiry, scopes,
 * plan): what `seed` and `current` return, for a test to hand its adapter.
 *
 * @since 0.1.0
 */
export type { Issued } from "./internal/accounts.js"
/** One request the simulator saw, tokens only as fingerprints, with its outcome: the entries of `log`. @since 0.1.0 */
export type { RecordedRequest } from "./internal/handler.js"

/** Which scenario `start` plays, how long and for how many requests the simulator lives, and its clock. @since 0.1.0 */
export interface Options {
  /** A catalog name or a scenario; default the happy path. */
  readonly scenario?: Scenario | string | undefined
  /** Stop after this long. Default 10 minutes. */
  readonly ttlMs?: number | undefined
  /** Stop after this many requests. Default 10,000. */
  readonly maxRequests?: number | undefined
  /** The simulator's clock (epoch ms); default `Date.now`. */
  readonly now?: (() => number) | undefined
}

/**
 * A running simulator from `start`: its URL, the scenario and seeded login, the
 * requests it saw, and controls to script, slow or stop it.
 *
 * @since 0.1.0
 */
export interface Simulator {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string
  readonly port: number
  /** `TOLLGATE_API_BASE_URL` and `TOLLGATE_OAUTH_BASE_URL` pointing here. */
  readonly env: { readonly TOLLGATE_API_BASE_URL: string; readonly TOLLGATE_OAUTH_BASE_URL: string }
  readonly scenario: Scenario
  /** The login the scenario's account was seeded with. */
  readonly account: Issued
  /** Every request so far. */
  readonly log: ReadonlyArray<RecordedRequest>
  /** How many requests reached `endpoint`. */
  count(endpoint: Endpoint): number
  /** Delays the real answers of `endpoint` by `ms` (0 for none) after they are decided: a slow network. */
  setLatency(endpoint: Endpoint, ms: number): void
  /** Sends message streams one event every `ms` (0, the default: the whole stream at once). */
  setStreamPace(ms: number): void
  /** Appends scripted steps for an endpoint. */
  script(endpoint: Endpoint, ...steps: ReadonlyArray<Step>): void
  /** Another login (a second account). */
  seed(seed?: Scenario["account"]): Issued
  /** Another process refreshed the primary account: returns the new tokens. */
  rotateElsewhere(): Issued | null
  /** The primary account's tokens as the server sees them now. */
  current(): Issued
  /** The request listener, for the MITM proxy. */
  readonly listener: http.RequestListener
  /** Resolves when the server has stopped (by `close`, TTL or request cap). */
  readonly closed: Promise<void>
  close(): Promise<void>
}

const happy: Scenario = { name: "happy-path", summary: "every endpoint answers as it should" }

/**
 * Starts a simulator on `127.0.0.1:0`.
 *
 * @since 0.1.0
 */
export const start = async (options: Options = {}): Promise<Simulator> => {
  const scenario = typeof options.scenario === "string" ? find(options.scenario) : (options.scenario ?? happy)
  const now = options.now ?? Date.now
  const book = new TokenBook(now)
  const account = book.seed(scenario.account)
  if (scenario.setup === "rotate-elsewhere") book.rotateElsewhere()
  const maxRequests = options.maxRequests ?? 10_000
  let requests = 0
  let close: () => Promise<void> = async () => {}
  const handler = new Handler(book, now, () => {
    if (++requests >= maxRequests) void close()
  })
  for (const [endpoint, steps] of Object.entries(scenario.script ?? {})) {
    if (steps) handler.script(endpoint as Endpoint, steps)
  }

  const sockets = new Set<Socket>()
  const server = http.createServer(handler.listener)
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  server.on("clientError", (_error, socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`

  let resolveClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))
  let closing: Promise<void> | null = null
  close = () =>
    (closing ??= new Promise<void>((resolve) => {
      clearTimeout(ttl)
      handler.releaseHanging()
      for (const socket of sockets) socket.destroy()
      server.close(() => {
        resolveClosed()
        resolve()
      })
    }))
  const ttl = setTimeout(() => void close(), options.ttlMs ?? 10 * 60_000)
  ttl.unref()

  return {
    url,
    port,
    env: { TOLLGATE_API_BASE_URL: url, TOLLGATE_OAUTH_BASE_URL: url },
    scenario,
    account,
    log: handler.log,
    count: (endpoint) => handler.log.filter((r) => r.route === endpoint).length,
    script: (endpoint, ...steps) => handler.script(endpoint, steps),
    setLatency: (endpoint, ms) => handler.setLatency(endpoint, ms),
    setStreamPace: (ms) => handler.setStreamPace(ms),
    seed: (seed) => book.seed(seed),
    rotateElsewhere: () => book.rotateElsewhere(),
    current: () => book.issued(book.primary!),
    listener: handler.listener,
    closed,
    close
  }
}
