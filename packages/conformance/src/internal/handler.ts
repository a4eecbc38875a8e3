// The simulator's request handling: scripted steps first (with their faults, delays and pacing),
// then what the real service would do (see realService.ts). Every request is recorded.
import type * as http from "node:http"
import { fingerprint } from "@tollgate/core/Credential"
import type { Endpoint } from "@tollgate/core/Endpoint"
import { fill, renderBody, type Step } from "../Scenario.js"
import type { TokenBook } from "./accounts.js"
import { RealService, type Route, routeOf } from "./realService.js"

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

interface Queued {
  step: Step
  left: number
}

const MAX_BODY = 1024 * 1024

export class Handler {
  readonly log: Array<RecordedRequest> = []
  private readonly scripts = new Map<Endpoint, Array<Queued>>()
  private readonly hanging = new Set<http.ServerResponse>()
  private readonly latency = new Map<Endpoint, number>()
  private streamGapMs = 0
  private readonly service: RealService

  constructor(
    readonly book: TokenBook,
    private readonly now: () => number,
    private readonly onRequest: () => void
  ) {
    this.service = new RealService(book, now)
  }

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
    const reply = this.service.answer(route, {
      url,
      body,
      bearer,
      apiKey,
      userAgent: entry.userAgent,
      beta: entry.beta
    })
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
