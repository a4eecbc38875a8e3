/**
 * Anthropic's unified rate-limit response headers (`anthropic-ratelimit-unified-*`),
 * read in one place: the five-hour and seven-day windows, the overall status,
 * the representative claim and its reset.
 *
 * Utilization arrives as a 0..1 fraction and resets as epoch seconds. A value
 * that is garbage, negative, not finite or beyond what a `Date` can hold is
 * left out (`null`), never thrown; utilization above 1 is cut to 1.
 *
 * No Effect import on purpose: the opencode plugin reads these headers on
 * its request path, where start-up cost is measured.
 *
 * @since 0.2.0
 */

/** What every unified header's name starts with. @since 0.2.0 */
export const PREFIX = "anthropic-ratelimit-unified-"

/** The header names this module reads. @since 0.2.0 */
export const names = {
  status: `${PREFIX}status`,
  representativeClaim: `${PREFIX}representative-claim`,
  reset: `${PREFIX}reset`,
  fiveHourUtilization: `${PREFIX}5h-utilization`,
  fiveHourReset: `${PREFIX}5h-reset`,
  sevenDayUtilization: `${PREFIX}7d-utilization`,
  sevenDayReset: `${PREFIX}7d-reset`
} as const

/** Response headers with lower-case names, or a fetch `Headers`. @since 0.2.0 */
export type Source = Readonly<Record<string, string | undefined>> | { readonly get: (name: string) => string | null }

/** The overall status Anthropic reports. @since 0.2.0 */
export type Status = "allowed" | "allowed_warning" | "rejected"

/**
 * One window: `utilization` a 0..1 fraction, `resetsAt` epoch milliseconds;
 * either is `null` when its header was absent or unusable.
 *
 * @since 0.2.0
 */
export interface Window {
  readonly utilization: number | null
  readonly resetsAt: number | null
}

/**
 * Everything the unified headers said. A window is `null` when neither of its
 * headers gave a usable value.
 *
 * @since 0.2.0
 */
export interface UnifiedHeaders {
  readonly fiveHour: Window | null
  readonly sevenDay: Window | null
  /** `null` when absent or not one of the known values. */
  readonly status: Status | null
  /** The limit the status speaks for (`five_hour`, `seven_day`, `seven_day_opus`…), as sent. */
  readonly representativeClaim: string | null
  /** When the representative claim's window resets, epoch milliseconds. */
  readonly resetsAt: number | null
}

const DECIMAL = /^\s*\d+(?:\.\d+)?\s*$/
const STATUSES: ReadonlySet<string> = new Set<Status>(["allowed", "allowed_warning", "rejected"])
// The largest time a Date can hold (ECMA-262 §21.4.1.1).
const MAX_DATE_MS = 8.64e15

const reader = (headers: Source): ((name: string) => string | undefined) => {
  if (typeof headers.get === "function") {
    const h = headers as { readonly get: (name: string) => string | null }
    return (name) => h.get(name) ?? undefined
  }
  const record = headers as Readonly<Record<string, string | undefined>>
  return (name) => {
    const value = Object.hasOwn(record, name) ? record[name] : undefined
    return typeof value === "string" ? value : undefined
  }
}

/**
 * A 0..1 fraction from a header value: plain decimals only, cut to 1;
 * `null` for anything else.
 *
 * @since 0.2.0
 */
export const fraction = (value: string | null | undefined): number | null => {
  if (typeof value !== "string" || !DECIMAL.test(value)) return null
  const n = Number(value)
  return Number.isFinite(n) ? Math.min(n, 1) : null
}

/**
 * Epoch milliseconds from an epoch-seconds header value (fractions allowed),
 * or `null` when it is not a plain non-negative decimal a `Date` can hold.
 *
 * @since 0.2.0
 */
export const epochSeconds = (value: string | null | undefined): number | null => {
  if (typeof value !== "string" || !DECIMAL.test(value)) return null
  const ms = Math.round(Number(value) * 1000)
  return Number.isSafeInteger(ms) && ms <= MAX_DATE_MS ? ms : null
}

const window = (utilization: number | null, resetsAt: number | null): Window | null =>
  utilization === null && resetsAt === null ? null : { utilization, resetsAt }

/**
 * Reads the unified headers. Never throws; unusable values are `null`.
 *
 * @since 0.2.0
 */
export const parse = (headers: Source): UnifiedHeaders => {
  const read = reader(headers)
  const status = read(names.status)
  return {
    fiveHour: window(fraction(read(names.fiveHourUtilization)), epochSeconds(read(names.fiveHourReset))),
    sevenDay: window(fraction(read(names.sevenDayUtilization)), epochSeconds(read(names.sevenDayReset))),
    status: status !== undefined && STATUSES.has(status) ? (status as Status) : null,
    representativeClaim: read(names.representativeClaim) ?? null,
    resetsAt: epochSeconds(read(names.reset))
  }
}

/**
 * The reset of the window a representative claim names (`five_hour`, any
 * `seven_day…`), for when the overall reset header is missing.
 *
 * @since 0.2.0
 */
export const claimResetsAt = (parsed: UnifiedHeaders): number | null => {
  const claim = parsed.representativeClaim
  if (claim === "five_hour") return parsed.fiveHour?.resetsAt ?? null
  if (claim?.startsWith("seven_day")) return parsed.sevenDay?.resetsAt ?? null
  return null
}

/**
 * The unified headers only, names lower-cased; empty when there are none.
 *
 * @since 0.2.0
 */
export const pick = (
  headers: Readonly<Record<string, string>> | { readonly forEach: (f: (value: string, name: string) => void) => void }
): Record<string, string> => {
  const out: Record<string, string> = {}
  const add = (value: string, name: string) => {
    const key = name.toLowerCase()
    if (key.startsWith(PREFIX)) out[key] = value
  }
  if (typeof headers.forEach === "function") {
    ;(headers as { readonly forEach: (f: (value: string, name: string) => void) => void }).forEach(add)
  } else {
    for (const [name, value] of Object.entries(headers)) if (typeof value === "string") add(value, name)
  }
  return out
}
