/**
 * Plain-text rendering of the status registry for the `tollgate_status` tool.
 */
import type { Tag } from "@tollgate/core/Classification"

/** What a request last got: `ok`, or the tag of core's verdict. */
export type Observed = "ok" | Exclude<Tag, "Ok">

/** What the fetch last observed for one account. */
export interface Entry {
  readonly account: string
  readonly verdict: Observed
  /** 5-hour window utilization, 0..1 (as the unified headers carry it); `null`: not seen. */
  readonly fiveHour: number | null
  /** 7-day window utilization, 0..1; `null`: not seen. */
  readonly sevenDay: number | null
  /** Epoch ms when the representative window resets; `null`: not seen. */
  readonly resetsAt: number | null
  /** Epoch ms of the observation. */
  readonly at: number
}

const percent = (u: number | null): string => (u === null ? "-" : `${Math.round(u * 100)}%`)

const duration = (ms: number): string => {
  if (ms <= 0) return "now"
  const minutes = Math.ceil(ms / 60_000)
  if (minutes < 60) return `in ${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `in ${hours}h${String(minutes % 60).padStart(2, "0")}m`
  return `in ${Math.floor(hours / 24)}d${hours % 24}h`
}

const ago = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  return `${Math.floor(s / 3600)}h ago`
}

/** The table, one row per account, columns padded; a sentence when there is nothing yet. */
export const formatTable = (entries: ReadonlyArray<Entry>, now: number): string => {
  if (entries.length === 0) return "tollgate: no Anthropic request has gone through tollgate yet in this session."
  const header = ["ACCOUNT", "VERDICT", "5H", "7D", "RESETS", "SEEN"]
  const rows = entries.map((e) => [
    e.account,
    e.verdict,
    percent(e.fiveHour),
    percent(e.sevenDay),
    e.resetsAt === null ? "-" : duration(e.resetsAt - now),
    ago(now - e.at)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/** One account of the shared state file, as `/tollgate` and `tollgate status` show it. */
export interface StateRow {
  /** The state file's key: a kind and a fingerprint or identity (`oauth:id:…`, `api:…`), never a secret. */
  readonly account: string
  /** Last classification tag (`Ok`, `RateLimited`, …); `null`: none recorded. */
  readonly verdict: string | null
  readonly fiveHour: number | null
  readonly sevenDay: number | null
  readonly resetsAt: number | null
  /** Epoch ms before which the account is skipped; `"forever"` until the user acts; `null`: not skipped. */
  readonly skipUntil: number | "forever" | null
  readonly updatedAt: number
}

/** A token-endpoint backoff recorded in the state file (`"<endpoint> <account>"`). */
export interface BackoffRow {
  readonly endpoint: string
  readonly account: string
  readonly failures: number
  readonly until: number | "forever" | null
  readonly verdict: string | null
}

/** What the shared state file says, in display order. */
export interface StateView {
  readonly path: string
  readonly accounts: ReadonlyArray<StateRow>
  readonly backoff: ReadonlyArray<BackoffRow>
}

/** The shape of the state file this reads (`internal/accountState.ts`' `StoreFile`). */
export interface StateFileLike {
  readonly accounts: Readonly<
    Record<
      string,
      {
        readonly verdict: string | null
        readonly skipUntil: number | null
        readonly fiveHour: number | null
        readonly sevenDay: number | null
        readonly resetsAt: number | null
        readonly updatedAt: number
      }
    >
  >
  readonly backoff: Readonly<
    Record<string, { readonly failures: number; readonly until: number | null; readonly verdict?: string | null }>
  >
}

// accountState.FOREVER: JSON has no Infinity.
const FOREVER = Number.MAX_SAFE_INTEGER
const until = (ms: number | null): number | "forever" | null => (ms === null ? null : ms >= FOREVER ? "forever" : ms)

/** The state file as rows: accounts by key, backoff entries split into endpoint and account. */
export const stateView = (path: string, file: StateFileLike): StateView => ({
  path,
  accounts: Object.entries(file.accounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([account, a]) => ({
      account,
      verdict: a.verdict,
      fiveHour: a.fiveHour,
      sevenDay: a.sevenDay,
      resetsAt: a.resetsAt,
      skipUntil: until(a.skipUntil),
      updatedAt: a.updatedAt
    })),
  backoff: Object.entries(file.backoff)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, e]) => {
      const space = key.indexOf(" ")
      return {
        endpoint: space < 0 ? key : key.slice(0, space),
        account: space < 0 ? "" : key.slice(space + 1),
        failures: e.failures,
        until: until(e.until),
        verdict: e.verdict ?? null
      }
    })
})

const skipped = (u: number | "forever" | null, now: number): string =>
  u === null || (u !== "forever" && u <= now)
    ? "-"
    : u === "forever"
      ? "until you act"
      : duration(u - now).replace(/^in /, "for ")

const pad = (rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)))
  return rows.map((cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  )
}

/**
 * The shared state as text: every account any opencode process recorded,
 * with its last verdict, 5-hour and 7-day usage, when the window resets,
 * whether it is being skipped and for how long, and token-endpoint backoffs.
 */
export const formatState = (view: StateView, now: number): string => {
  const lines = [`tollgate: accounts recorded by every opencode process (${view.path})`]
  if (view.accounts.length === 0 && view.backoff.length === 0) {
    lines.push("No account has been used through tollgate yet.")
    return lines.join("\n")
  }
  if (view.accounts.length > 0) {
    lines.push(
      ...pad([
        ["ACCOUNT", "VERDICT", "5H", "7D", "RESETS", "SKIPPED", "UPDATED"],
        ...view.accounts.map((a) => [
          a.account,
          a.verdict ?? "-",
          percent(a.fiveHour),
          percent(a.sevenDay),
          a.resetsAt === null ? "-" : duration(a.resetsAt - now),
          skipped(a.skipUntil, now),
          a.updatedAt > 0 ? ago(now - a.updatedAt) : "-"
        ])
      ])
    )
  }
  const active = view.backoff.filter((b) => b.until === "forever" || (b.until !== null && b.until > now))
  for (const b of active) {
    lines.push(
      `${b.endpoint} endpoint for ${b.account || "every account"}: backing off ${skipped(b.until, now)}` +
        ` after ${b.failures} failure${b.failures === 1 ? "" : "s"}${b.verdict ? ` (${b.verdict})` : ""}`
    )
  }
  return lines.join("\n")
}
