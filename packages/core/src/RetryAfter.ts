/**
 * Reading `Retry-After` the way Anthropic actually sends it: delta-seconds,
 * an HTTP-date, `retry-after-ms`, and `0` while the throttle persists.
 *
 * Policy, made explicit: `0` and negative values count as absent (the service
 * sends `0` for hours while still refusing), garbage counts as absent, and no
 * value is honoured beyond {@link Policy.maxMs}. The result is always a
 * non-negative integer number of milliseconds or `null`: never NaN, never a
 * throw.
 *
 * @since 0.1.0
 */

/** Response headers with lower-case names. @since 0.1.0 */
export type Headers = Readonly<Record<string, string | undefined>>

/** How far a server's wait is believed. @since 0.1.0 */
export interface Policy {
  /** The longest wait honoured; longer values are cut to this. */
  readonly maxMs: number
}

/** Six hours: beyond that a caller should look at `resetsAt`, not sleep. @since 0.1.0 */
export const defaultPolicy: Policy = { maxMs: 6 * 60 * 60 * 1000 }

const DELTA_SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/

/**
 * The wait a response asks for, in integer milliseconds, or `null` when it
 * gave no usable value. `retry-after-ms` wins over `retry-after`.
 *
 * @since 0.1.0
 */
export const fromHeaders = (headers: Headers, now: number, policy: Policy = defaultPolicy): number | null => {
  const ms = parseMs(headers["retry-after-ms"])
  if (ms !== null) return clamp(ms, policy)
  const raw = headers["retry-after"]
  if (raw === undefined) return null
  const seconds = DELTA_SECONDS.exec(raw)
  if (seconds) return clamp(Number(seconds[1]) * 1000, policy)
  return fromHttpDate(raw, now, policy)
}

/**
 * An HTTP-date relative to `now`; a date in the past counts as absent.
 *
 * @since 0.1.0
 */
export const fromHttpDate = (value: string, now: number, policy: Policy = defaultPolicy): number | null => {
  // Only dates that look like one: Date.parse accepts bare numbers and words.
  if (!/[a-z]/i.test(value) || !/\d{1,2}:\d{2}/.test(value)) return null
  const at = Date.parse(value)
  if (!Number.isFinite(at)) return null
  return clamp(at - now, policy)
}

const parseMs = (value: string | undefined): number | null => {
  if (value === undefined) return null
  const match = DELTA_SECONDS.exec(value)
  return match ? Number(match[1]) : null
}

const clamp = (ms: number, policy: Policy): number | null => {
  if (!Number.isFinite(ms) || ms <= 0) return null
  return Math.ceil(Math.min(ms, Math.max(0, policy.maxMs)))
}
