// Plain-text tables for the benchmark's stdout: a Markdown pipe table with
// padded columns, so it reads in a terminal and pastes into an issue as is.

/** One cell; numbers are right-aligned. */
export type Cell = string | number

/** Renders `rows` under `headers`, numbers right-aligned, text left-aligned. */
export const render = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string => {
  const text = rows.map((row) => headers.map((_, i) => String(row[i] ?? "")))
  const looksNumeric = (cell: Cell | undefined) =>
    typeof cell === "number" || (typeof cell === "string" && /^(—|-?[\d,]+(\.\d+)?)$/.test(cell))
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => looksNumeric(row[i])))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>, alignRight: ReadonlyArray<boolean>) =>
    `| ${cells.map((c, i) => (alignRight[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`
  return [
    line(
      headers,
      headers.map(() => false)
    ),
    rule,
    ...text.map((row) => line(row, numeric))
  ].join("\n")
}

/** A section heading followed by its table and notes. */
export const section = (
  title: string,
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<Cell>>,
  notes: ReadonlyArray<string> = []
): string =>
  [`\n## ${title}\n`, render(headers, rows), ...(notes.length > 0 ? ["", ...notes.map((n) => `- ${n}`)] : [])].join(
    "\n"
  )

/** `1234567.8` → `"1,234,568"`. */
export const count = (n: number): string => Math.round(n).toLocaleString("en-US")

/** A ratio with two decimals, or a dash when it has no denominator. */
export const ratio = (numerator: number, denominator: number): string =>
  denominator === 0 ? "—" : (numerator / denominator).toFixed(2)

/** `true` → `"yes"`; hard failures are shouted so they stand out in CI logs. */
export const met = (ok: boolean, hard: boolean): string => (ok ? "yes" : hard ? "NO (hard)" : "no")
