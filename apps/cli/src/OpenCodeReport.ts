/**
 * The part of `tollgate doctor` about opencode: which config files opencode
 * reads (the global ones, and the project's in the directory doctor runs in)
 * list tollgate's plugin, and in which form — the `@tollgate/opencode`
 * package (what `tollgate opencode install` writes) or a `file://` bundle
 * (`--from-checkout`, `--plugin`). No file is written and no network is used.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import pkg from "../package.json" with { type: "json" }
import * as OpenCodeConfig from "@tollgate/opencode/OpenCodeConfig"

/** One listing of the plugin. */
export interface Listing {
  readonly scope: "global" | "project"
  readonly path: string
  readonly spec: string
  readonly form: "package" | "file"
}

/** Field names are part of `doctor --json`'s contract. */
export interface OpenCodeFacts {
  readonly opencode: {
    /** Every listing found, global files first, in the order opencode reads them. */
    readonly plugins: ReadonlyArray<Listing>
    /** What `tollgate opencode install` would write now. */
    readonly installs: string
  }
}

const specOf = (entry: unknown): unknown => (Array.isArray(entry) ? entry[0] : entry)

const listings = async (
  scope: Listing["scope"],
  dir: string,
  names: ReadonlyArray<string>
): Promise<Array<Listing>> => {
  const out: Array<Listing> = []
  for (const name of names) {
    const path = join(dir, name)
    const text = await readFile(path, "utf8").catch(() => null)
    if (text === null) continue
    const config = OpenCodeConfig.parse(text)
    const plugins = Either.isRight(config) ? config.right["plugin"] : undefined
    for (const spec of Array.isArray(plugins) ? plugins.map(specOf) : []) {
      if (typeof spec === "string" && OpenCodeConfig.isTollgateSpec(spec)) {
        out.push({ scope, path, spec, form: spec.startsWith(OpenCodeConfig.PACKAGE) ? "package" : "file" })
      }
    }
  }
  return out
}

const nonEmpty = (value: string | undefined): string | undefined => (value?.trim() ? value : undefined)

/** Gathers the facts; never fails. */
export const gather: Effect.Effect<OpenCodeFacts> = Effect.promise(async () => {
  const home = nonEmpty(process.env["HOME"]) ?? homedir()
  const globalDir = join(nonEmpty(process.env["XDG_CONFIG_HOME"]) ?? join(home, ".config"), "opencode")
  // As `tollgate opencode install` picks the project: pnpm moves the cwd and keeps the caller's in INIT_CWD.
  const project = resolve(nonEmpty(process.env["INIT_CWD"]) ?? process.cwd())
  const plugins = [
    ...(await listings("global", globalDir, OpenCodeConfig.GLOBAL_NAMES)),
    ...(await listings("project", project, OpenCodeConfig.PROJECT_NAMES))
  ]
  return { opencode: { plugins, installs: OpenCodeConfig.packageSpec(pkg.version) } }
})

/** Plain-words lines for the doctor's output. */
export const render = (facts: OpenCodeFacts): ReadonlyArray<readonly [string, string]> => {
  const { plugins, installs } = facts.opencode
  if (plugins.length === 0) return [["opencode", `plugin not listed (\`tollgate opencode install\` adds ${installs})`]]
  return plugins.map((p) => {
    const note =
      p.form === "file"
        ? "a file:// bundle"
        : p.spec === installs
          ? "the package, this CLI's version"
          : `the package; this CLI installs ${installs} (\`tollgate opencode install\` moves the pin)`
    return [`opencode (${p.scope})`, `${p.spec} in ${p.path}: ${note}`] as const
  })
}
