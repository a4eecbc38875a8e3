/**
 * The statusline's one line, as a pure function of what the client learned:
 * `🚦 5h:42% 7d:13%`, coloured by the higher of the two numbers, a reset time
 * on a window that resets within the hour, and a short label when something
 * is wrong — always next to the last numbers, never instead of them.
 *
 * Plain TypeScript with no imports but types: it is on the statusline's
 * start-up path.
 *
 * @since 0.1.0
 */
import type { Verdict, Window, Windows } from "../Protocol.js"

/**
 * How the daemon exchange went: `ok` (a status reply), `down` (no socket or
 * nobody listening), `slow` (no reply within the budget), `error` (a reply
 * that was not a usable status).
 *
 * @since 0.1.0
 */
export type DaemonState = "ok" | "down" | "slow" | "error"

/**
 * Everything the line is made of. `windows` are already merged (daemon first,
 * Claude Code's stdin for any window the daemon lacks).
 *
 * @since 0.1.0
 */
export interface View {
  readonly windows: Windows
  readonly daemon: DaemonState
  /** The daemon's `quota.verdict`, any string (a newer daemon may send one this client does not know); ignored unless `daemon` is `ok`. */
  readonly verdict: string | null
  /** The daemon's `quota.until`, epoch ms. */
  readonly until: number | null
}

/** How to render: the current time (for reset times) and whether to colour. @since 0.1.0 */
export interface Options {
  /** Epoch ms. */
  readonly now: number
  readonly color: boolean
}

/** A window's reset time is printed when it is at most this far ahead (or already past). @since 0.1.0 */
export const RESET_SOON_MS = 60 * 60 * 1000

/** Separates the numbers from a label. @since 0.1.0 */
export const SEPARATOR = " · "

/**
 * The label per verdict. Verdicts that need the same action from the user
 * share a label (a dead token is "re-login" whichever way it died; any
 * upstream outage is "api unreachable"); every label means one thing.
 * Keyed by every verdict the daemon can send (core's tags and `NoLogin`; `Ok`
 * is sent as `null`): a new verdict does not compile until it has a label.
 *
 * @since 0.1.0
 */
export const VERDICT_LABELS: { readonly [V in Exclude<Verdict, "Ok">]: string } = {
  MissingScope: "no usage scope",
  TokenExpired: "login expired",
  TokenInvalid: "re-login needed",
  TokenRevoked: "re-login needed",
  RefreshRejected: "re-login needed",
  OrgPolicyDenied: "org blocks OAuth",
  // RateLimited is rendered with its `until` by `label`.
  RateLimited: "rate limited",
  EdgeBlocked: "blocked by Cloudflare",
  NoLogin: "no login",
  Transport: "api unreachable",
  ServerError: "api unreachable",
  Overloaded: "api unreachable",
  ExtraUsageRequired: "extra usage required",
  ClientRejected: "client rejected",
  NotFound: "usage api error",
  BadRequest: "usage api error",
  Decode: "usage api error"
}

const isLabelled = (verdict: string): verdict is keyof typeof VERDICT_LABELS => Object.hasOwn(VERDICT_LABELS, verdict)

/** Labels that are about the daemon, not about the login. @since 0.1.0 */
export const DAEMON_LABELS: Readonly<Record<Exclude<DaemonState, "ok">, string>> = {
  down: "daemon down",
  slow: "daemon slow",
  error: "daemon error"
}

/** A verdict this client does not know yet (a newer daemon). @since 0.1.0 */
export const UNKNOWN_VERDICT_LABEL = "quota unavailable"

/** The daemon answered but has no numbers and nothing is wrong: before the first API response. @since 0.1.0 */
export const NO_DATA_LABEL = "no usage yet"

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n))
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const

/**
 * Local `HH:MM`, prefixed with the weekday when more than 20 hours away (a
 * seven-day reset or a long rate limit) so that `14:05` is never tomorrow's.
 * Date getters rather than `Intl`, which costs milliseconds to load.
 *
 * @since 0.1.0
 */
export const clock = (at: number, now: number): string => {
  const d = new Date(at)
  const hhmm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
  return Math.abs(at - now) > 20 * 60 * 60 * 1000 ? `${WEEKDAYS[d.getDay()] ?? ""} ${hhmm}` : hhmm
}

/**
 * The label for the daemon state and verdict, or `null` when all is well.
 *
 * @since 0.1.0
 */
export const label = (view: Pick<View, "daemon" | "verdict" | "until">, now: number): string | null => {
  if (view.daemon !== "ok") return DAEMON_LABELS[view.daemon]
  if (view.verdict === null) return null
  if (view.verdict === "RateLimited") {
    return view.until !== null ? `rate limited until ${clock(view.until, now)}` : "rate limited"
  }
  // Own keys only: a verdict such as "constructor" must not find Object.prototype's.
  const known = isLabelled(view.verdict) ? VERDICT_LABELS[view.verdict] : undefined
  return known ?? UNKNOWN_VERDICT_LABEL
}

const percent = (w: Window): number => Math.round(w.usedPercent)

// A reset already past is shown too: the number is then older than its window.
const segment = (name: string, w: Window, now: number): string =>
  `${name}:${percent(w)}%${w.resetsAt !== null && w.resetsAt - now <= RESET_SOON_MS ? `↻${clock(w.resetsAt, now)}` : ""}`

/** Green below 50 %, yellow below 80 %, red from 80 %. @since 0.1.0 */
export const colorFor = (highest: number): string =>
  highest >= 80 ? "\u001b[31m" : highest >= 50 ? "\u001b[33m" : "\u001b[32m"

const RESET = "\u001b[0m"

/**
 * The whole line, without a trailing newline.
 *
 * @since 0.1.0
 */
export const render = (view: View, options: Options): string => {
  const { fiveHour, sevenDay } = view.windows
  const parts: Array<string> = []
  if (fiveHour) parts.push(segment("5h", fiveHour, options.now))
  if (sevenDay) parts.push(segment("7d", sevenDay, options.now))
  let numbers = parts.join(" ")
  if (numbers !== "" && options.color) {
    const highest = Math.max(fiveHour ? percent(fiveHour) : 0, sevenDay ? percent(sevenDay) : 0)
    numbers = `${colorFor(highest)}${numbers}${RESET}`
  }
  const text = label(view, options.now) ?? (numbers === "" ? NO_DATA_LABEL : null)
  return `🚦 ${[numbers, text].filter((s): s is string => s !== null && s !== "").join(SEPARATOR)}`
}

/**
 * Daemon windows first; Claude Code's stdin fills a window the daemon does
 * not have, so a daemon that has not seen a number yet never hides one.
 *
 * @since 0.1.0
 */
export const merge = (daemon: Windows | undefined, stdin: Windows | undefined): Windows => {
  const fiveHour = daemon?.fiveHour ?? stdin?.fiveHour
  const sevenDay = daemon?.sevenDay ?? stdin?.sevenDay
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) }
}

/**
 * Colour unless `NO_COLOR` is set to anything but the empty string
 * (https://no-color.org). Not gated on a TTY: Claude Code reads the line from
 * a pipe and renders ANSI colour itself.
 *
 * @since 0.1.0
 */
export const colorEnabled = (env: Readonly<Record<string, string | undefined>>): boolean =>
  env["NO_COLOR"] === undefined || env["NO_COLOR"] === ""
