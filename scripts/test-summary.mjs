#!/usr/bin/env node
// Adds up every package's vitest JSON report into one closing line, so a
// reader (or CI) sees how many tests ran across the whole workspace.
import { existsSync, readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"

let passed = 0
let failed = 0
let skipped = 0
const missing = []
for (const group of ["packages", "apps"]) {
  if (!existsSync(group)) continue
  for (const name of readdirSync(group)) {
    const dir = join(group, name)
    if (!existsSync(join(dir, "vitest.config.ts"))) continue
    const file = join(dir, ".test-results.json")
    if (!existsSync(file)) {
      missing.push(dir)
      continue
    }
    const report = JSON.parse(readFileSync(file, "utf8"))
    passed += report.numPassedTests ?? 0
    failed += report.numFailedTests ?? 0
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  }
}
// The release test (scripts/release-test.mjs), one test per step, when `pnpm test` ran it.
if (existsSync(".release-test-results.json")) {
  const report = JSON.parse(readFileSync(".release-test-results.json", "utf8"))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += report.numPendingTests ?? 0
} else missing.push("scripts/release-test.mjs")
if (missing.length > 0) console.log(`no test report from: ${missing.join(", ")}`)
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || missing.length > 0 ? 1 : 0)
