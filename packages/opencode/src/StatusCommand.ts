/**
 * What `/tollgate` shows inside opencode: an in-memory registry the
 * authorized fetch reports into (last verdict and unified rate-limit usage per
 * account), the `tollgate_status` tool that prints it as a table, and the
 * `tollgate` command that asks the model to call that tool.
 *
 * The tool is the plain object opencode 1.18's tool registry accepts (what
 * `@opencode-ai/plugin`'s `tool()` helper returns): `{ description, args,
 * execute }`, where `args` is a Zod raw shape — `{}` needs no Zod at all —
 * and `execute` resolves to the output string.
 *
 * @since 0.1.0
 */
import { type Entry, formatTable } from "./internal/statusTable.js"

/** @since 0.1.0 */
export type { Entry } from "./internal/statusTable.js"

/** What a caller reports; `at` defaults to now. @since 0.1.0 */
export interface Report {
  readonly account: string
  readonly verdict: string
  readonly fiveHour?: number | null | undefined
  readonly sevenDay?: number | null | undefined
  readonly resetsAt?: number | null | undefined
  readonly at?: number | undefined
}

const entries = new Map<string, Entry>()

/**
 * Records the latest observation for an account. A usage value that is not
 * given (`undefined`) keeps the one seen before; `null` clears it.
 *
 * @since 0.1.0
 */
export const report = (r: Report): void => {
  const before = entries.get(r.account)
  entries.set(r.account, {
    account: r.account,
    verdict: r.verdict,
    fiveHour: r.fiveHour === undefined ? (before?.fiveHour ?? null) : r.fiveHour,
    sevenDay: r.sevenDay === undefined ? (before?.sevenDay ?? null) : r.sevenDay,
    resetsAt: r.resetsAt === undefined ? (before?.resetsAt ?? null) : r.resetsAt,
    at: r.at ?? Date.now()
  })
}

/** Every account seen, in first-seen order. @since 0.1.0 */
export const snapshot = (): ReadonlyArray<Entry> => [...entries.values()]

/** Forgets everything (tests). @since 0.1.0 */
export const clear = (): void => entries.clear()

const fraction = (raw: string | null): number | undefined => {
  if (raw === null || raw.trim() === "") return undefined
  const n = Number(raw)
  return Number.isFinite(n) ? n : undefined
}

/**
 * Usage from Anthropic's unified rate-limit response headers; a header that
 * is absent is left out (so {@link report} keeps the previous value).
 *
 * @since 0.1.0
 */
export const usageFromHeaders = (
  headers: Headers
): { fiveHour?: number; sevenDay?: number; resetsAt?: number } => {
  const fiveHour = fraction(headers.get("anthropic-ratelimit-unified-5h-utilization"))
  const sevenDay = fraction(headers.get("anthropic-ratelimit-unified-7d-utilization"))
  const reset = fraction(headers.get("anthropic-ratelimit-unified-reset"))
  return {
    ...(fiveHour === undefined ? {} : { fiveHour }),
    ...(sevenDay === undefined ? {} : { sevenDay }),
    ...(reset === undefined ? {} : { resetsAt: reset * 1000 })
  }
}

/** The table for the current registry. @since 0.1.0 */
export const format = (now: number = Date.now()): string => formatTable(snapshot(), now)

/** @since 0.1.0 */
export { formatTable }

/** The tool's name in opencode. @since 0.1.0 */
export const TOOL_NAME = "tollgate_status"

/** The slash command's name (`/tollgate`). @since 0.1.0 */
export const COMMAND_NAME = "tollgate"

/**
 * The `tollgate_status` tool definition.
 *
 * @since 0.1.0
 */
export const tool = {
  description:
    "Show the Anthropic accounts tollgate signs requests with: each one's last verdict and its 5-hour and 7-day " +
    "subscription usage as last reported by the API. Takes no arguments; returns a plain-text table.",
  args: {},
  execute: async (_args: unknown, _context: unknown): Promise<string> => format()
}

/** The `tollgate` command definition (opencode config `command.<name>`). @since 0.1.0 */
export const command = {
  description: "Show tollgate accounts, verdicts and usage",
  template: `Call the ${TOOL_NAME} tool and show its output verbatim.`
}

/**
 * The `config` hook: registers `/tollgate`, keeping a user's own definition.
 *
 * @since 0.1.0
 */
export const registerCommand = async (config: { command?: Record<string, unknown> | undefined }): Promise<void> => {
  config.command ??= {}
  config.command[COMMAND_NAME] ??= { ...command }
}
