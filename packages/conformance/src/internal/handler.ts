// The simulator's request handling: scripted steps first, then what the real
// service would do (rotation, scope and User-Agent enforcement).
import { createHash } from "node:crypto"
import type * as http from "node:http"
import { fingerprint } from "@tollgate/core/Credential"
import type { Endpoint } from "@tollgate/core/Endpoint"
import { fill, renderBody, type Step } from "../Scenario.js"
import { ACCESS_TTL_SECONDS, type TokenBook } from "./accounts.js"
import * as R from "./responses.js"

export type Route = Endpoint | "authorize" | "other"

/** What the simulator remembers of one request; tokens only as fingerprints. */
export interface RecordedRequest {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly route: Route
  readonly host: string | null
  readonly userAgent: string | null
  readonly bearer: string | null
  readonly apiKey: string | null
  readonly beta: string | null
  readonly body: {
    readonly bytes: number
    readonly grantType?: string
    readonly refreshToken?: string
    readonly scope?: string
    readonly model?: string
    readonly stream?: boolean
  }
  /** The status sent, or the fault played. */
  outcome: number | "reset" | "hang" | "stall"
  /** When the response went out (`now()`), once it has. */
  answeredAt?: number
  /** When its last byte went out (a paced stream ends after it began). */
  finishedAt?: number
  readonly scripted: boolean
}

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

interface Queued {
  step: Step
  left: number
}

const OAUTH_BETA = "oauth-2025-04-20"
const MAX_BODY = 1024 * 1024

export class Handler {
  readonly log: Array<RecordedRequest> = []
  private readonly scripts = new Map<Endpoint, Array<Queued>>()
  private readonly codes = new Map<string, { challenge: string; state: string }>()
  private readonly hanging = new Set<http.ServerResponse>()
  private readonly latency = new Map<Endpoint, number>()
  private streamGapMs = 0

  constructor(
    readonly book: TokenBook,
    private readonly now: () => number,
    private readonly onRequest: () => void
  ) {}

  script(endpoint: Endpoint, steps: ReadonlyArray<Step>): void {
    const queue = this.scripts.get(endpoint) ?? []
    for (const step of steps) queue.push({ step, left: step.times === "always" ? Infinity : (step.times ?? 1) })
    this.scripts.set(endpoint, queue)
  }

  /** Delays the real (unscripted) answers of `endpoint` by `ms` after they are decided, as a slow network would. */
  setLatency(endpoint: Endpoint, ms: number): void {
    if (ms > 0) this.latency.set(endpoint, ms)
    else this.latency.delete(endpoint)
  }

  clearScripts(): void {
    this.scripts.clear()
  }

  /** Streams go out one event every `ms` (0: the whole body at once). */
  setStreamPace(ms: number): void {
    this.streamGapMs = Math.max(0, ms)
  }

  /** Ends responses left hanging so the server can close. */
  releaseHanging(): void {
    for (const res of this.hanging) res.destroy()
    this.hanging.clear()
  }

  readonly listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
    })
    req.on("error", () => res.destroy())
    req.on("end", () => {
      this.onRequest()
      this.handle(req, res, Buffer.concat(chunks).toString("utf8"), size)
    })
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string, bytes: number): void {
    const url = new URL(req.url ?? "/", "http://sim")
    const route = routeOf(req.method ?? "GET", url.pathname)
    const body = parseBody(raw, req.headers["content-type"])
    const bearer = /^Bearer\s+(.+)$/i.exec(header(req, "authorization") ?? "")?.[1] ?? null
    const apiKey = header(req, "x-api-key")
    const entry: RecordedRequest = {
      at: this.now(),
      method: req.method ?? "",
      path: url.pathname,
      route,
      host: header(req, "host"),
      userAgent: header(req, "user-agent"),
      bearer: bearer ? fingerprint(bearer) : null,
      apiKey: apiKey ? fingerprint(apiKey) : null,
      beta: header(req, "anthropic-beta"),
      body: {
        bytes,
        ...(typeof body["grant_type"] === "string" ? { grantType: body["grant_type"] } : {}),
        ...(typeof body["refresh_token"] === "string" ? { refreshToken: fingerprint(body["refresh_token"]) } : {}),
        ...(typeof body["scope"] === "string" ? { scope: body["scope"] } : {}),
        ...(typeof body["model"] === "string" ? { model: body["model"] } : {}),
        ...(typeof body["stream"] === "boolean" ? { stream: body["stream"] } : {})
      },
      outcome: 0,
      scripted: false
    }
    this.log.push(entry)

    const step = route === "authorize" || route === "other" ? undefined : this.next(route)
    if (step) {
      ;(entry as { scripted: boolean }).scripted = true
      this.play(step, res, entry)
      return
    }
    // Decided (a refresh token rotated) on arrival, as the real service does; only the answer waits.
    const reply = this.serve(route, req, body, bearer, apiKey, url)
    entry.outcome = reply.status
    const send = () => {
      entry.answeredAt = this.now()
      const events =
        this.streamGapMs > 0 && (reply.headers["content-type"] ?? "").startsWith("text/event-stream")
          ? reply.body.split(/(?<=\n\n)/)
          : null
      if (events === null) {
        res.writeHead(reply.status, { "content-length": String(Buffer.byteLength(reply.body)), ...reply.headers })
        res.end(reply.body)
        entry.finishedAt = this.now()
        return
      }
      // A paced stream: one event per gap, as a model generates them.
      res.writeHead(reply.status, reply.headers)
      const gap = this.streamGapMs
      const write = (i: number) => {
        if (res.destroyed) return
        if (i >= events.length) {
          res.end()
          entry.finishedAt = this.now()
          return
        }
        res.write(events[i])
        setTimeout(() => write(i + 1), gap).unref()
      }
      write(0)
    }
    const delay = route === "authorize" || route === "other" ? 0 : (this.latency.get(route) ?? 0)
    if (delay > 0) setTimeout(send, delay).unref()
    else send()
  }

  private next(endpoint: Endpoint): Step | undefined {
    const queue = this.scripts.get(endpoint)
    const head = queue?.[0]
    if (!queue || !head) return undefined
    head.left--
    if (head.left <= 0) queue.shift()
    return head.step
  }

  private play(step: Step, res: http.ServerResponse, entry: RecordedRequest): void {
    const send = () => {
      const now = this.now()
      entry.answeredAt = now
      if (step.fault === "reset") {
        entry.outcome = "reset"
        return res.socket?.destroy()
      }
      if (step.fault === "hang") {
        entry.outcome = "hang"
        this.hanging.add(res)
        return
      }
      const body = renderBody(step, now)
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(step.headers ?? {})) headers[k] = fill(v, now)
      const bytes = Buffer.from(body)
      entry.outcome = step.fault === "stall" ? "stall" : step.status
      if (step.fault === "truncate") {
        const half = bytes.subarray(0, Math.floor(bytes.length / 2))
        res.writeHead(step.status, { ...headers, "content-length": String(half.length) })
        return res.end(half)
      }
      res.writeHead(step.status, { ...headers, "content-length": String(bytes.length) })
      if (step.fault === "stall") {
        this.hanging.add(res)
        return res.write(bytes.subarray(0, Math.floor(bytes.length / 2)))
      }
      res.end(bytes)
    }
    if (step.delayMs && step.delayMs > 0) setTimeout(send, step.delayMs).unref()
    else send()
  }

  private serve(
    route: Route,
    req: http.IncomingMessage,
    body: Record<string, unknown>,
    bearer: string | null,
    apiKey: string | null,
    url: URL
  ): Reply {
    switch (route) {
      case "token":
        return this.token(req, body)
      case "usage":
      case "profile":
        return this.bearerEndpoint(route, req, bearer)
      case "messages":
        return this.messages(req, body, bearer, apiKey, url.pathname.endsWith("/count_tokens"))
      case "authorize":
        return this.authorize(url)
      case "other":
        return { status: 404, headers: R.JSON_TYPE, body: R.apiError("not_found_error", "Not found") }
    }
  }

  private token(req: http.IncomingMessage, body: Record<string, unknown>): Reply {
    const ua = header(req, "user-agent") ?? ""
    // The token endpoint's edge: no UA is a Cloudflare 1010, a Claude Code or browser UA is throttled.
    if (ua.trim() === "") return { status: 403, headers: { "content-type": "text/plain" }, body: "error code: 1010" }
    if (ua.startsWith("claude-code/") || ua.startsWith("Mozilla")) {
      return { status: 429, headers: R.JSON_TYPE, body: R.tokenRateLimited }
    }
    const grant = body["grant_type"]
    if (grant === "authorization_code") return this.exchange(body)
    if (grant !== "refresh_token" || typeof body["refresh_token"] !== "string") {
      return { status: 400, headers: R.JSON_TYPE, body: R.oauthError("invalid_request", "Unsupported grant") }
    }
    const rotated = this.book.rotate(body["refresh_token"])
    if (!rotated) {
      return {
        status: 400,
        headers: R.JSON_TYPE,
        body: R.oauthError("invalid_grant", "Refresh token not found or invalid")
      }
    }
    return {
      status: 200,
      headers: R.JSON_TYPE,
      body: R.tokenGrant(rotated.account, rotated.omitRefreshToken, ACCESS_TTL_SECONDS)
    }
  }

  private exchange(body: Record<string, unknown>): Reply {
    const code = typeof body["code"] === "string" ? body["code"].split("#")[0]! : ""
    const pending = this.codes.get(code)
    const verifier = typeof body["code_verifier"] === "string" ? body["code_verifier"] : ""
    if (!pending || createHash("sha256").update(verifier).digest("base64url") !== pending.challenge) {
      return { status: 400, headers: R.JSON_TYPE, body: R.oauthError("invalid_grant", "Invalid authorization code") }
    }
    this.codes.delete(code)
    const issued = this.book.seed()
    const account = this.book.all().find((a) => a.uuid === issued.accountUuid)!
    return { status: 200, headers: R.JSON_TYPE, body: R.tokenGrant(account, false, ACCESS_TTL_SECONDS) }
  }

  // The paste-the-code page: shows `code#state` as the real callback page does.
  private authorize(url: URL): Reply {
    const challenge = url.searchParams.get("code_challenge") ?? ""
    const state = url.searchParams.get("state") ?? ""
    if (url.searchParams.get("code_challenge_method") !== "S256" || challenge === "") {
      return { status: 400, headers: { "content-type": "text/plain" }, body: "PKCE S256 required" }
    }
    const code = `simcode_${Math.random().toString(36).slice(2)}`
    this.codes.set(code, { challenge, state })
    return { status: 200, headers: { "content-type": "text/plain" }, body: `${code}#${state}` }
  }

  private bearerEndpoint(route: "usage" | "profile", req: http.IncomingMessage, bearer: string | null): Reply {
    if (!bearer) {
      return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "Invalid bearer token") }
    }
    const found = this.book.byAccess(bearer)
    if (!found) {
      return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "Invalid bearer token") }
    }
    // The real usage endpoint answers a stale or rotated token with 429, not 401.
    if (found.state !== "current") {
      return route === "usage"
        ? {
            status: 429,
            headers: { ...R.JSON_TYPE, "retry-after": "0" },
            body: R.apiError("rate_limit_error", "Rate limited. Please try again later.")
          }
        : {
            status: 401,
            headers: R.JSON_TYPE,
            body: R.apiError(
              "authentication_error",
              "OAuth token has expired. Please obtain a new token or refresh your existing token."
            )
          }
    }
    if (!found.account.scopes.includes("user:profile")) {
      return { status: 403, headers: R.JSON_TYPE, body: R.scopeRequirement("user:profile") }
    }
    const ua = header(req, "user-agent") ?? ""
    if (route === "usage" && !/^claude-(code|cli)\//.test(ua)) {
      // Anything but a Claude Code UA lands in the harsh bucket.
      return {
        status: 429,
        headers: { ...R.JSON_TYPE, "retry-after": "0" },
        body: R.apiError("rate_limit_error", "Rate limited. Please try again later.")
      }
    }
    return {
      status: 200,
      headers: R.JSON_TYPE,
      body: route === "usage" ? R.usage(found.account, this.now()) : R.profile(found.account)
    }
  }

  private messages(
    req: http.IncomingMessage,
    body: Record<string, unknown>,
    bearer: string | null,
    apiKey: string | null,
    countTokens = false
  ): Reply {
    const model = typeof body["model"] === "string" ? body["model"] : "claude-sonnet-4-5"
    const stream = body["stream"] === true
    let headers: Record<string, string> = {}
    if (bearer) {
      const found = this.book.byAccess(bearer)
      if (!found || found.state === "retired") {
        return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "Invalid bearer token") }
      }
      if (found.state === "expired") {
        return {
          status: 401,
          headers: R.JSON_TYPE,
          body: R.apiError(
            "authentication_error",
            "OAuth token has expired. Please obtain a new token or refresh your existing token."
          )
        }
      }
      if (
        !(header(req, "anthropic-beta") ?? "")
          .split(",")
          .map((s) => s.trim())
          .includes(OAUTH_BETA)
      ) {
        return {
          status: 401,
          headers: R.JSON_TYPE,
          body: R.apiError("authentication_error", "OAuth authentication is currently not supported.")
        }
      }
      if (!found.account.scopes.includes("user:inference")) {
        return { status: 403, headers: R.JSON_TYPE, body: R.scopeRequirement("user:inference") }
      }
      headers = R.unifiedHeaders(found.account, this.now())
    } else if (!apiKey?.startsWith("sk-ant-api")) {
      return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "invalid x-api-key") }
    }
    if (countTokens)
      return { status: 200, headers: { ...headers, ...R.JSON_TYPE }, body: JSON.stringify({ input_tokens: 12 }) }
    return stream
      ? { status: 200, headers: { ...headers, "content-type": "text/event-stream" }, body: R.messageStream(model) }
      : { status: 200, headers: { ...headers, ...R.JSON_TYPE }, body: R.message(model) }
  }
}

const routeOf = (method: string, path: string): Route => {
  if (method === "POST" && (path === "/v1/oauth/token" || path === "/oauth/token")) return "token"
  if (method === "GET" && path === "/api/oauth/usage") return "usage"
  if (method === "GET" && path === "/api/oauth/profile") return "profile"
  if (method === "POST" && (path === "/v1/messages" || path === "/v1/messages/count_tokens")) return "messages"
  if (method === "GET" && (path === "/oauth/authorize" || path === "/cai/oauth/authorize")) return "authorize"
  return "other"
}

const header = (req: http.IncomingMessage, name: string): string | null => {
  const value = req.headers[name]
  return typeof value === "string" ? value : Array.isArray(value) ? (value[0] ?? null) : null
}

const parseBody = (raw: string, contentType: string | undefined): Record<string, unknown> => {
  if (raw.length === 0) return {}
  if ((contentType ?? "").includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(raw))
  }
  try {
    const parsed: unknown = JSON.parse(raw)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}
