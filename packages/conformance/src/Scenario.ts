/**
 * Scenarios as data: for each endpoint, a script of responses the simulator
 * plays before falling back to its stateful behaviour, plus the verdict the
 * reference says the first response deserves.
 *
 * Header and body strings may hold time templates, filled in when sent:
 * `{{http-date:+120}}` (an HTTP-date 120 s from now), `{{epoch-s:+3600}}`
 * (unix seconds), `{{iso:+3600}}`.
 *
 * @since 0.1.0
 */
import type { Endpoint } from "@tollgate/core/Endpoint"

/**
 * One scripted response.
 *
 * @since 0.1.0
 */
export interface Step {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** Filler to make a body this many bytes long (appended inside a JSON string). */
  readonly bodyBytes?: number
  readonly delayMs?: number
  /**
   * `reset`: close the connection without a response; `hang`: never answer;
   * `stall`: send headers and half the body, then nothing; `truncate`: send half
   * the body with a matching content-length.
   */
  readonly fault?: "reset" | "hang" | "stall" | "truncate"
  /** How many requests this step answers; `"always"` never runs out. Default 1. */
  readonly times?: number | "always"
}

/**
 * The account the simulator serves at start.
 *
 * @since 0.1.0
 */
export interface AccountSeed {
  readonly scopes?: ReadonlyArray<string>
  /** Access-token lifetime from start, ms; negative means already expired. Default 8 h. */
  readonly expiresInMs?: number
  readonly subscriptionType?: string
  readonly rateLimitTier?: string
  /** Rotation responses leave out `refresh_token` (the old one stays valid). */
  readonly omitRefreshToken?: boolean
  /** A login from `claude setup-token`: inference only, no refresh token. */
  readonly setupToken?: boolean
  /** 5-hour and 7-day utilisation, 0..100. */
  readonly utilization?: { readonly fiveHour: number; readonly sevenDay: number }
}

/** The verdict a scenario demands for the first call to an endpoint. @since 0.1.0 */
export interface Expectation {
  readonly tag: string
  readonly [field: string]: unknown
}

/**
 * One scenario: the account the simulator seeds, the responses it plays per
 * endpoint, and the verdict each first response deserves.
 *
 * @since 0.1.0
 */
export interface Scenario {
  readonly name: string
  /** What it shows, in a user's words. */
  readonly summary: string
  readonly account?: AccountSeed
  readonly script?: Partial<Record<Endpoint, ReadonlyArray<Step>>>
  readonly expect?: Partial<Record<Endpoint, Expectation>>
  /** `rotate-elsewhere`: before the first request another process rotates the login, so the seeded tokens are stale. */
  readonly setup?: "rotate-elsewhere"
  readonly tags?: ReadonlyArray<
    "error-table" | "retry-after" | "rotation" | "transport" | "edge" | "sse" | "unified" | "scopes" | "ok"
  >
}

/** Fills the time templates of a header or body string. @since 0.1.0 */
export const fill = (text: string, now: number): string =>
  text.replace(/\{\{(http-date|epoch-s|iso):([+-]\d+)\}\}/g, (_, kind: string, offset: string) => {
    const at = now + Number(offset) * 1000
    if (kind === "http-date") return new Date(at).toUTCString()
    if (kind === "epoch-s") return String(Math.floor(at / 1000))
    return new Date(at).toISOString()
  })

/**
 * The body a step sends at `now`: templates filled, and padded to
 * `bodyBytes` when it asks for a large body.
 *
 * @since 0.1.0
 */
export const renderBody = (step: Step, now: number): string => {
  const body = fill(step.body ?? "", now)
  return step.bodyBytes && step.bodyBytes > body.length ? `{"padding":"${"x".repeat(step.bodyBytes - 16)}"}` : body
}
