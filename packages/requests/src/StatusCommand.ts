/**
 * What `/tollgate` shows inside opencode: every account of the shared state
 * file (`AccountStore`, written by every opencode process) with its last
 * verdict, quota and reset, answered by the plugin itself in the
 * `command.execute.before` hook — no model call, so it works while every
 * account is capped. Also the in-memory registry the authorized fetch
 * reports into (this process only) and the `tollgate_status` tool.
 *
 * opencode 1.18's V1 plugin API has no way for a command hook to say
 * "handled, do not prompt the model": the hook can only edit the parts sent
 * to the model. So {@link answer} adds the table to the session as a user
 * message that is not replied to (`noReply`, `ignored`: it never reaches a
 * model), shows it in a toast, and then throws {@link Handled}, which stops
 * opencode before its model call. opencode reports that as a generic
 * "Unexpected server error" after the table (an error toast in the TUI, a
 * line on stderr and exit 1 in `opencode run --command tollgate`).
 *
 * The tool is the plain object opencode 1.18's tool registry accepts (what
 * `@opencode-ai/plugin`'s `tool()` helper returns): `{ description, args,
 * execute }`, where `args` is a Zod raw shape — `{}` needs no Zod at all —
 * and `execute` resolves to the output string.
 *
 * @since 0.1.0
 */
import * as UnifiedHeaders from "@tollgate/core/UnifiedHeaders"
import * as State from "./internal/accountState.js"
import {
  type Entry,
  formatState,
  formatTable,
  type Observed,
  stateView,
  type StateView
} from "./internal/statusTable.js"
import { defaultPath } from "./AccountStore.js"

/**
 * The row and view types of the status table, for callers that render it
 * themselves (`tollgate status`).
 *
 * @since 0.1.0
 */
export type { BackoffRow, Entry, Observed, StateRow, StateView } from "./internal/statusTable.js"

/** What a caller reports; `at` defaults to now. @since 0.1.0 */
export interface Report {
  readonly account: string
  readonly verdict: Observed
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

/**
 * Usage from Anthropic's unified rate-limit response headers, as core reads
 * them (0..1 fractions; garbage, negative and non-finite values dropped); a
 * header that is absent or unusable is left out (so {@link report} keeps the
 * previous value).
 *
 * @since 0.1.0
 */
export const usageFromHeaders = (headers: Headers): { fiveHour?: number; sevenDay?: number; resetsAt?: number } => {
  const unified = UnifiedHeaders.parse(headers)
  const fiveHour = unified.fiveHour?.utilization ?? null
  const sevenDay = unified.sevenDay?.utilization ?? null
  return {
    ...(fiveHour === null ? {} : { fiveHour }),
    ...(sevenDay === null ? {} : { sevenDay }),
    ...(unified.resetsAt === null ? {} : { resetsAt: unified.resetsAt })
  }
}

/** The table for the current registry. @since 0.1.0 */
export const format = (now: number = Date.now()): string => formatTable(snapshot(), now)

/**
 * The renderers behind {@link format} and `/tollgate`, so `tollgate status`
 * prints the same text: `formatTable` for this process's registry,
 * `stateView` and `formatState` for the shared state file.
 *
 * @since 0.1.0
 */
export { formatState, formatTable, stateView }

/**
 * The shared state file as rows (`AccountStore.defaultPath()` unless given);
 * a missing or unreadable file reads as no accounts.
 *
 * @since 0.2.0
 */
export const readState = async (path: string = defaultPath()): Promise<StateView> =>
  stateView(path, await State.readFile(path))

/**
 * The text `/tollgate` shows: the shared state of all processes, then any
 * problem with the plugin's options.
 *
 * @since 0.2.0
 */
export const render = async (
  options: {
    readonly path?: string | undefined
    readonly problems?: ReadonlyArray<string> | undefined
    readonly now?: number
  } = {}
): Promise<string> => {
  const text = formatState(await readState(options.path), options.now ?? Date.now())
  const problems = options.problems ?? []
  return problems.length === 0
    ? text
    : `${text}\n\nPlugin options ignored:\n${problems.map((p) => `- ${p}`).join("\n")}`
}

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
  execute: async (_args: unknown, _context: unknown): Promise<string> => render()
}

/**
 * The `tollgate` command definition (opencode config `command.<name>`). The
 * template only reaches a model where the `command.execute.before` hook does
 * not run (an opencode without it): there it has the model call the tool.
 *
 * @since 0.1.0
 */
export const command = {
  description: "Show tollgate accounts, verdicts and usage",
  template: `Call the ${TOOL_NAME} tool and show its output verbatim.`
}

/**
 * Thrown by the `/tollgate` hook after answering, to stop opencode from
 * sending the command to a model (see the module comment).
 *
 * @since 0.2.0
 */
export class Handled extends Error {
  constructor() {
    super("tollgate: /tollgate was answered by the plugin; no model call")
    this.name = "TollgateCommandHandled"
  }
}

/** What {@link answer} needs of opencode's SDK client (v1 shape); every part optional-chained. @since 0.2.0 */
export interface AnswerClient {
  readonly session?: {
    readonly prompt?: (options: {
      path: { id: string }
      body: {
        noReply: true
        parts: Array<{ type: "text"; text: string; ignored: true; time: { start: number; end: number } }>
      }
    }) => Promise<unknown>
  }
  readonly tui?: {
    readonly showToast?: (options: {
      body: { title?: string; message: string; variant: "info" | "success" | "warning" | "error" }
    }) => Promise<unknown>
  }
}

/** How long `/tollgate` waits for opencode to deliver the table's event before stopping the command. */
const DELIVERY_MS = 300

/**
 * Answers `/tollgate` in a session without a model: the table from the
 * shared state file as a user message that is never replied to (`noReply`;
 * `ignored` keeps it out of later model context; a finished `time` makes
 * `opencode run` print it), and as a toast. Resolves with the text; throws
 * nothing itself.
 *
 * @since 0.2.0
 */
export const answer = async (
  client: AnswerClient,
  sessionID: string,
  options: { readonly path?: string | undefined; readonly problems?: ReadonlyArray<string> | undefined } = {}
): Promise<string> => {
  const text = await render(options)
  const now = Date.now()
  await Promise.all([
    Promise.resolve()
      .then(() =>
        client.session?.prompt?.({
          path: { id: sessionID },
          body: { noReply: true, parts: [{ type: "text", text, ignored: true, time: { start: now, end: now } }] }
        })
      )
      .catch(() => undefined),
    Promise.resolve()
      .then(() => client.tui?.showToast?.({ body: { title: "tollgate", message: text, variant: "info" } }))
      .catch(() => undefined)
  ])
  // The message reaches `opencode run` as an event; stopping the command at once could outrun it.
  await new Promise((resolve) => setTimeout(resolve, DELIVERY_MS))
  return text
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
