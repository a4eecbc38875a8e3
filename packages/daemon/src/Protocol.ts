/**
 * The daemon's wire protocol: one JSON request and one JSON reply per Unix
 * socket connection, versioned. Plain TypeScript with hand-written checks and
 * no dependencies, because the statusline client imports it and its whole
 * cost is start-up time.
 *
 * @since 0.1.0
 */
import type { UsagePoller } from "@tollgate/core"

/** The protocol version every request and reply carries as `v`; a request with another is refused. @since 0.1.0 */
export const VERSION = 1

/** Requests larger than this are refused. @since 0.1.0 */
export const MAX_REQUEST_BYTES = 64 * 1024

/** A request that has not arrived whole within this is dropped. @since 0.1.0 */
export const READ_DEADLINE_MS = 1_000

/**
 * A quota window as a source reported it: `usedPercent` 0..100, `resetsAt`
 * epoch ms.
 *
 * @since 0.1.0
 */
export interface Window {
  readonly usedPercent: number
  readonly resetsAt: number | null
}

/** Five-hour and seven-day windows; either may be absent. @since 0.1.0 */
export interface Windows {
  readonly fiveHour?: Window | undefined
  readonly sevenDay?: Window | undefined
}

/**
 * What a client sends: `ping` (is a daemon there, and which pid), `status`
 * (the quota, with the `rate_limits` the statusline has) or `ingest-headers`
 * (rate-limit headers seen elsewhere). Checked by {@link parseRequest}.
 *
 * @since 0.1.0
 */
export type Request =
  | { readonly v: 1; readonly op: "ping" }
  /** What the statusline asks on every render, forwarding Claude Code's free `rate_limits` when present. */
  | {
      readonly v: 1
      readonly op: "status"
      readonly rateLimits?: Windows | undefined
      readonly sessionId?: string | undefined
    }
  /** Unified rate-limit headers another tollgate adapter saw on a messages response. */
  | {
      readonly v: 1
      readonly op: "ingest-headers"
      readonly headers: Readonly<Record<string, string>>
      readonly at?: number | undefined
    }

/** Where the numbers came from. @since 0.1.0 */
export type Source = "statusline" | "headers" | "usage-endpoint"

/**
 * What the daemon sends as `quota.verdict`: a core verdict tag, or `NoLogin`.
 *
 * @since 0.2.0
 */
export type Verdict = UsagePoller.Verdict

/**
 * What the daemon knows about the current login's quota. The daemon sends a
 * {@link Verdict}; a client reads `Quota<string>`, since a newer daemon may
 * send a verdict it does not know yet.
 *
 * @since 0.1.0
 */
export interface Quota<V extends string = Verdict> {
  /** The best numbers available (freshest trustworthy source), or none. */
  readonly windows: Windows
  readonly source: Source | null
  /** Epoch ms of those numbers. */
  readonly observedAt: number | null
  /** The verdict that stops or delays the usage endpoint, e.g. `MissingScope`, `RateLimited`; `null` when fine. */
  readonly verdict: V | null
  /** When a rate-limit verdict lifts, epoch ms. */
  readonly until: number | null
  /** One short sentence for the verdict. */
  readonly message: string | null
}

/**
 * What the daemon publishes beside its socket (`Paths.published`) every time
 * it answers a status request, so that a statusline with nothing new to tell
 * it reads the answer instead of asking: an ask costs the client `node:net`
 * and a round trip, a read costs one small file. A statusline still asks
 * when its `rate_limits` differ from `seen`, when the answer is older than
 * {@link PUBLISHED_FRESH_MS}, or when the daemon's `pid` is gone. Written
 * atomically, 0600, in the socket's 0700 directory; removed at shutdown.
 *
 * @since 0.1.0
 */
export interface Published<V extends string = Verdict> {
  readonly v: 1
  readonly pid: number
  /** Epoch ms of the answer. */
  readonly answeredAt: number
  readonly quota: Quota<V>
  /** `snapshotKey` of the last `rate_limits` a statusline forwarded, or `null` before the first. */
  readonly seen: string | null
}

/**
 * A published answer older than this is not used: the statusline asks, which
 * also keeps the daemon's free numbers fresh and lets it poll when due.
 *
 * @since 0.1.0
 */
export const PUBLISHED_FRESH_MS = 15_000

/** A published file larger than this is not the daemon's. @since 0.1.0 */
export const PUBLISHED_MAX_BYTES = 16 * 1024

/**
 * Identity of a `rate_limits` snapshot: equal keys, nothing new to forward.
 *
 * @since 0.1.0
 */
export const snapshotKey = (windows: Windows): string =>
  JSON.stringify([
    windows.fiveHour?.usedPercent ?? null,
    windows.fiveHour?.resetsAt ?? null,
    windows.sevenDay?.usedPercent ?? null,
    windows.sevenDay?.resetsAt ?? null
  ])

/** The daemon's answer to a {@link Request}: the matching `ok` reply, or an error with its code. @since 0.1.0 */
export type Reply =
  | { readonly v: 1; readonly ok: true; readonly op: "pong"; readonly pid: number }
  | { readonly v: 1; readonly ok: true; readonly op: "status"; readonly quota: Quota }
  | { readonly v: 1; readonly ok: true; readonly op: "ingested" }
  | { readonly v: 1; readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } }

/** Why a request got an error reply, so a client can tell its own mistake from the daemon's. @since 0.1.0 */
export type ErrorCode = "bad_json" | "bad_request" | "unsupported_version" | "too_large" | "internal"

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const finite = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

/**
 * A used percentage as tollgate keeps it: a finite number clamped to 0..100.
 * Anything else — NaN, ±Infinity (`1e999` parses as Infinity), a string,
 * null — is `undefined`, as if the window were absent. Every boundary where
 * a percentage comes in (Claude Code's stdin, a request, a reply, the
 * published status, headers, the usage endpoint) goes through it, so no
 * consumer ever prints `-5%` or `1e+300%`.
 *
 * @since 0.1.0
 */
export const usedPercent = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isFinite(u) ? Math.min(100, Math.max(0, u)) : undefined

/**
 * A window from its wire form (`{usedPercent, resetsAt}`), or `undefined`
 * when it has no usable percentage.
 *
 * @since 0.1.0
 */
export const windowOf = (u: unknown): Window | undefined => {
  if (!isObject(u)) return undefined
  const used = usedPercent(u["usedPercent"])
  return used === undefined ? undefined : { usedPercent: used, resetsAt: finite(u["resetsAt"]) ? u["resetsAt"] : null }
}

const windows = (u: unknown): Windows | undefined => {
  if (!isObject(u)) return undefined
  const fiveHour = windowOf(u["fiveHour"])
  const sevenDay = windowOf(u["sevenDay"])
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) }
}

/**
 * Checks a decoded request; a string says what is wrong.
 *
 * @since 0.1.0
 */
export const parseRequest = (json: unknown): Request | { readonly error: ErrorCode; readonly message: string } => {
  if (!isObject(json)) return { error: "bad_request", message: "a request is a JSON object" }
  if (json["v"] !== VERSION) return { error: "unsupported_version", message: `this daemon speaks protocol v${VERSION}` }
  switch (json["op"]) {
    case "ping":
      return { v: 1, op: "ping" }
    case "status": {
      const rateLimits = windows(json["rateLimits"])
      const sessionId = typeof json["sessionId"] === "string" ? json["sessionId"].slice(0, 200) : undefined
      return { v: 1, op: "status", ...(rateLimits ? { rateLimits } : {}), ...(sessionId ? { sessionId } : {}) }
    }
    case "ingest-headers": {
      const headers = json["headers"]
      if (!isObject(headers)) return { error: "bad_request", message: "ingest-headers needs a headers object" }
      const clean: Record<string, string> = {}
      for (const [k, v] of Object.entries(headers)) {
        if (typeof v === "string" && k.toLowerCase().startsWith("anthropic-ratelimit-"))
          clean[k.toLowerCase()] = v.slice(0, 200)
      }
      return { v: 1, op: "ingest-headers", headers: clean, ...(finite(json["at"]) ? { at: json["at"] } : {}) }
    }
    default:
      return { error: "bad_request", message: "op must be ping, status or ingest-headers" }
  }
}

/**
 * Claude Code's statusline stdin `rate_limits` block (`used_percentage`
 * 0..100, `resets_at` unix seconds) as windows; percentages are clamped by
 * {@link usedPercent}.
 *
 * @since 0.1.0
 */
export const fromStatuslineInput = (input: unknown): Windows | undefined => {
  if (!isObject(input) || !isObject(input["rate_limits"])) return undefined
  const block = input["rate_limits"]
  const one = (u: unknown): Window | undefined => {
    if (!isObject(u)) return undefined
    const used = usedPercent(u["used_percentage"])
    return used === undefined
      ? undefined
      : { usedPercent: used, resetsAt: finite(u["resets_at"]) ? Math.round(u["resets_at"] * 1000) : null }
  }
  const fiveHour = one(block["five_hour"])
  const sevenDay = one(block["seven_day"])
  if (!fiveHour && !sevenDay) return undefined
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) }
}
