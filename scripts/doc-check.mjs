#!/usr/bin/env node
// Every public export says what it is (issue 14): each top-level `export` in a package's src/ (src/internal/ is not
// public) and in the CLI's src/ has a doc comment right above it that says more than `@since`/`@category`.
// `node scripts/doc-check.mjs [dir|file ...]` (default: packages/*/src and apps/*/src); exit 1 with one line per
// export that lacks one.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

const SKIPPED = new Set(["node_modules", "dist", "internal"])

const walk = (dir, out) => {
  for (const name of readdirSync(dir)) {
    if (SKIPPED.has(name)) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, out)
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(path)
  }
  return out
}

const defaults = () =>
  ["packages", "apps"].flatMap((group) =>
    existsSync(group)
      ? readdirSync(group)
          .map((name) => join(group, name, "src"))
          .filter(existsSync)
      : []
  )

// The doc block ending on line `end` (its `*/`), as text without the comment marks and tags that say nothing.
const said = (lines, end) => {
  let start = end
  while (start >= 0 && !lines[start].includes("/**")) start--
  if (start < 0) return ""
  return lines
    .slice(start, end + 1)
    .join("\n")
    .replace(/\/\*\*|\*\//g, "")
    .replace(/^\s*\*\s?/gm, "")
    .replace(/@(since|category)\b.*$/gm, "")
    .trim()
}

const targets = process.argv.length > 2 ? process.argv.slice(2) : defaults()
const files = targets.flatMap((t) => (statSync(t).isDirectory() ? walk(t, []) : [t]))
const missing = []
for (const file of files) {
  const lines = readFileSync(file, "utf8").split("\n")
  lines.forEach((line, i) => {
    if (!/^export\s/.test(line)) return
    let j = i - 1
    while (j >= 0 && lines[j].trim() === "") j--
    const documented = j >= 0 && lines[j].trim().endsWith("*/") && said(lines, j) !== ""
    if (!documented) missing.push(`${file}:${i + 1}  ${line.trim().slice(0, 90)}`)
  })
}
if (missing.length > 0) {
  console.error(`doc-check: ${missing.length} public export(s) without a doc comment that says what they are:`)
  for (const line of missing) console.error(`  ${line}`)
  process.exit(1)
}
console.log(`doc-check: every public export of ${files.length} files is documented`)
