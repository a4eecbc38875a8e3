/**
 * Plain-text rendering of the status registry for the `tollgate_status` tool.
 */

/** What the fetch last observed for one account. */
export interface Entry {
  readonly account: string
  /** `ok`, a classification tag, or `HTTP <status>`. */
  readonly verdict: string
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
