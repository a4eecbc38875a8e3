// `pnpm check:packages`: every publishable package as a registry would serve it. Each one is built (its own
// `build` script, once), packed with `pnpm pack` (publishConfig, workspace: and catalog: applied) into a temp
// directory and unpacked; then, on what the tarball holds:
//
// - deps: every bare specifier its .js files import (static import/export-from, import(), require()) and its
//   .d.ts files reference is declared in dependencies or peerDependencies (node: and built-in modules aside),
//   and every dependency is imported by some file — so the package imports where only it and its declared
//   dependencies are installed, and installs nothing it never loads;
// - publint: publint's Node API on the unpacked files, warnings counted as failures (--strict);
// - attw: @arethetypeswrong/cli on the tarball with `--profile esm-only`: the packages are ES modules only
//   ("type": "module", `import`/`default` conditions, no `require`), so the node10 resolution (no `exports`,
//   no subpaths) and node16-from-CommonJS are not ways they are meant to be consumed; node16-ESM and bundler are.
//
// Prints one table (packages × checks) and every failure's reason; exits 1 on any failure.
// Options: package names (or directory names) to check only those; --skip-build to pack what dist/ holds;
// --verbose to print which packages each one's .js and .d.ts files import.
import { execFile } from "node:child_process"
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises"
import { builtinModules, createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const run = promisify(execFile)
const root = fileURLToPath(new URL("..", import.meta.url))
const require = createRequire(import.meta.url)
// TypeScript's own pre-processor finds imports, exports-from, import() and require() without being fooled by
// comments or the word `import` inside a string.
const ts = require("typescript")
const { publint } = await import("publint")
const { formatMessage } = await import("publint/utils")

const args = process.argv.slice(2)
const skipBuild = args.includes("--skip-build")
const verbose = args.includes("--verbose")
const only = args.filter((a) => !a.startsWith("--"))

/** Every non-private package under packages/ and apps/. */
const discover = async () => {
  const found = []
  for (const group of ["packages", "apps"]) {
    for (const name of (await readdir(join(root, group))).sort()) {
      const dir = join(root, group, name)
      const manifest = await readFile(join(dir, "package.json"), "utf8").then(JSON.parse, () => null)
      if (manifest === null || manifest.private) continue
      if (only.length > 0 && !only.includes(manifest.name) && !only.includes(name)) continue
      found.push({ dir, manifest })
    }
  }
  return found
}

const builtins = new Set(builtinModules)
/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null for relative, node: and built-ins. */
const packageOf = (specifier) => {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("#")) return null
  if (specifier.startsWith("node:") || builtins.has(specifier) || builtins.has(specifier.split("/")[0])) return null
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]
}

const walk = async (dir) => {
  const out = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await walk(path)))
    else out.push(path)
  }
  return out
}

const isJs = (file) => /\.(m|c)?js$/.test(file)
const isDts = (file) => /\.d\.(m|c)?ts$/.test(file)

/** package name → the files (relative to the package root) that import it, for .js and for .d.ts separately. */
const importsOf = async (pkgDir) => {
  const js = new Map()
  const dts = new Map()
  for (const file of await walk(pkgDir)) {
    const into = isJs(file) ? js : isDts(file) ? dts : null
    if (into === null) continue
    const info = ts.preProcessFile(await readFile(file, "utf8"), true, true)
    const specifiers = [...info.importedFiles, ...info.typeReferenceDirectives].map((r) => r.fileName)
    for (const specifier of specifiers) {
      const name = packageOf(specifier)
      if (name === null) continue
      if (!into.has(name)) into.set(name, new Set())
      into.get(name).add(relative(pkgDir, file))
    }
  }
  return { js, dts }
}

const example = (files) => [...files].slice(0, 2).join(", ") + (files.size > 2 ? ", …" : "")

/** The deps check on an unpacked package: reasons it fails (empty when it passes). */
const checkDeps = async (pkgDir) => {
  const manifest = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8"))
  const dependencies = Object.keys(manifest.dependencies ?? {})
  const peers = Object.keys(manifest.peerDependencies ?? {})
  const declared = new Set([...dependencies, ...peers, ...Object.keys(manifest.optionalDependencies ?? {})])
  const { js, dts } = await importsOf(pkgDir)
  const reasons = []
  for (const [name, files] of js) {
    if (name !== manifest.name && !declared.has(name)) reasons.push(`imports undeclared ${name} (${example(files)})`)
  }
  for (const [name, files] of dts) {
    // @types/node is the consumer's (every TypeScript user of a Node package has it); node: built-ins are skipped above.
    if (name === "node" || js.has(name) || name === manifest.name || declared.has(name)) continue
    reasons.push(`types reference undeclared ${name} (${example(files)})`)
  }
  for (const name of dependencies) {
    if (!js.has(name) && !dts.has(name)) reasons.push(`dependency ${name} is never imported`)
  }
  for (const name of peers) {
    if (!js.has(name) && !dts.has(name)) reasons.push(`peer dependency ${name} is never imported`)
  }
  if (verbose) {
    const list = (map) => [...map.keys()].sort().join(" ") || "(none)"
    notes.push(`${manifest.name} imports: js ${list(js)}; d.ts ${list(dts)}`)
  }
  const summary = `${dependencies.length} dep${dependencies.length === 1 ? "" : "s"}${peers.length ? `, ${peers.length} peer` : ""}`
  return { reasons, summary }
}

const checkPublint = async (pkgDir) => {
  const pkg = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8"))
  // pack: false — pkgDir is the unpacked tarball, so every file in it is what gets published.
  const { messages } = await publint({ pkgDir, pack: false, level: "suggestion", strict: true })
  const failing = messages.filter((m) => m.type !== "suggestion")
  const suggestions = messages.filter((m) => m.type === "suggestion")
  return {
    reasons: failing.map((m) => `${m.type}: ${formatMessage(m, pkg, { color: false })}`),
    notes: suggestions.map((m) => `suggestion: ${formatMessage(m, pkg, { color: false })}`),
    summary: suggestions.length ? `${suggestions.length} suggestion${suggestions.length === 1 ? "" : "s"}` : ""
  }
}

const attwBin = join(root, "node_modules", ".bin", "attw")

/** A subpath pattern (`./*`, `./internal/*`) as a RegExp over subpaths; `*` spans `/` as in Node. */
const patternOf = (key) =>
  new RegExp(
    `^${key
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("(.+)")}$`
  )

/**
 * The subpaths `exports` wildcards open on the files the tarball holds (attw checks a `./*` entry only as
 * "(wildcard)", not the modules behind it): each `./x/*` whose target matches a file, minus subpaths that an
 * explicit key or a `null` pattern takes.
 */
const wildcardEntrypoints = async (pkgDir, exportsField) => {
  if (exportsField === null || typeof exportsField !== "object") return []
  const keys = Object.keys(exportsField).filter((k) => k.startsWith("."))
  const target = (value) =>
    typeof value === "string"
      ? value
      : value && typeof value === "object"
        ? target(value.import ?? value.default)
        : null
  const blocked = keys.filter((k) => exportsField[k] === null && k.includes("*")).map(patternOf)
  const files = (await walk(pkgDir)).map((f) => `./${relative(pkgDir, f)}`)
  const found = new Set()
  for (const key of keys.filter((k) => k.includes("*"))) {
    const to = target(exportsField[key])
    if (to === null || !to.includes("*")) continue
    const match = patternOf(to)
    for (const file of files) {
      const m = match.exec(file)
      if (!m) continue
      const subpath = key.replace("*", m[1])
      if (keys.includes(subpath) || blocked.some((b) => b.test(subpath))) continue
      found.add(subpath)
    }
  }
  return [...found].sort()
}
const checkAttw = async (tarball, pkgDir) => {
  const pkg = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8"))
  const typed =
    pkg.types !== undefined || pkg.typings !== undefined || JSON.stringify(pkg.exports ?? {}).includes('"types"')
  // A package that ships no types (the CLI: a bin, nothing to import) has nothing for attw to resolve.
  if (!typed) return { reasons: [], summary: "n/a (no types)", skipped: true }
  const extra = await wildcardEntrypoints(pkgDir, pkg.exports)
  const include = extra.length ? ["--include-entrypoints", ...extra] : []
  const { stdout } = await run(
    attwBin,
    [tarball, "--profile", "esm-only", "--format", "json", "--no-color", ...include],
    {
      maxBuffer: 64 * 1024 * 1024
    }
  ).catch((error) => ({ stdout: error.stdout ?? "", stderr: error.stderr }))
  let result
  try {
    result = JSON.parse(stdout)
  } catch {
    return { reasons: [`attw printed no JSON: ${String(stdout).slice(0, 300)}`], summary: "" }
  }
  const ignored = new Set(["node10", "node16-cjs"]) // what the esm-only profile ignores
  const problems = (result.analysis?.problems ?? []).filter(
    (p) => !("resolutionKind" in p) || !ignored.has(p.resolutionKind)
  )
  const entrypoints = Object.keys(result.analysis?.entrypoints ?? {}).filter((e) => !e.includes("*"))
  return {
    reasons: problems.map(
      (p) => `${p.kind}${p.entrypoint ? ` at ${p.entrypoint}` : ""}${p.resolutionKind ? ` (${p.resolutionKind})` : ""}`
    ),
    summary: `${entrypoints.length} entrypoint${entrypoints.length === 1 ? "" : "s"}`
  }
}

const packages = await discover()
if (packages.length === 0) {
  console.error(`check-packages: no publishable package matches ${only.join(", ")}`)
  process.exit(1)
}
const work = await mkdtemp(join(tmpdir(), "tollgate-check-packages-"))
const rows = []
const failures = []
const notes = []

try {
  for (const { dir, manifest } of packages) {
    const name = manifest.name
    const row = { name, build: "", deps: "", publint: "", attw: "" }
    rows.push(row)
    const fail = (check, reasons) => {
      for (const reason of reasons) failures.push(`${name} ${check}: ${reason}`)
    }
    const started = Date.now()
    if (!skipBuild && manifest.scripts?.build) {
      try {
        await run("pnpm", ["run", "--silent", "build"], { cwd: dir, maxBuffer: 64 * 1024 * 1024 })
        row.build = `ok ${((Date.now() - started) / 1000).toFixed(0)}s`
      } catch (error) {
        row.build = "FAIL"
        fail("build", [
          String(error.stdout || error.stderr || error.message)
            .trim()
            .split("\n")
            .slice(0, 10)
            .join("\n")
        ])
        row.deps = row.publint = row.attw = "-"
        continue
      }
    } else row.build = skipBuild ? "skipped" : "no script"

    const into = join(work, name.replace("/", "__"))
    let tarball
    try {
      // Built above: a prepack script that builds again is skipped (ignore-scripts).
      const { stdout } = await run("pnpm", ["pack", "--pack-destination", into, "--json"], {
        cwd: dir,
        env: { ...process.env, npm_config_ignore_scripts: "true" },
        maxBuffer: 64 * 1024 * 1024
      })
      // Any script output comes before the JSON document.
      tarball = JSON.parse(stdout.slice(stdout.search(/^\{/m))).filename
      await run("tar", ["-xzf", tarball, "-C", into])
    } catch (error) {
      row.deps = row.publint = row.attw = "-"
      row.build += " (pack FAIL)"
      fail("pack", [String(error.stderr || error.message).trim()])
      continue
    }
    const pkgDir = join(into, "package")

    const deps = await checkDeps(pkgDir)
    row.deps = deps.reasons.length ? `FAIL (${deps.reasons.length})` : `ok ${deps.summary}`
    fail("deps", deps.reasons)

    const lint = await checkPublint(pkgDir)
    row.publint = lint.reasons.length ? `FAIL (${lint.reasons.length})` : `ok ${lint.summary}`.trim()
    fail("publint", lint.reasons)
    for (const note of lint.notes) notes.push(`${name} publint ${note}`)

    const types = await checkAttw(tarball, pkgDir)
    row.attw = types.reasons.length
      ? `FAIL (${types.reasons.length})`
      : types.skipped
        ? types.summary
        : `ok ${types.summary}`
    fail("attw", types.reasons)
  }
} finally {
  await rm(work, { recursive: true, force: true })
}

const header = { name: "package", build: "build", deps: "deps", publint: "publint", attw: "attw (esm-only)" }
const columns = Object.keys(header)
const widths = columns.map((c) => Math.max(...[header, ...rows].map((r) => r[c].length)))
const line = (r) => columns.map((c, i) => r[c].padEnd(widths[i])).join("  ")
console.log(line(header))
console.log(widths.map((w) => "-".repeat(w)).join("  "))
for (const row of rows) console.log(line(row))
if (notes.length) console.log(`\n${notes.join("\n")}`)
if (failures.length) {
  console.log(
    `\n${failures.length} failure${failures.length === 1 ? "" : "s"}:\n${failures.map((f) => `  ${f}`).join("\n")}`
  )
  process.exit(1)
}
console.log("\nevery package passes")
