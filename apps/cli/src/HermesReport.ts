/**
 * The part of `tollgate doctor` about Hermes Agent: whether `tollgate hermes
 * install` set up the Hermes home (`$HERMES_HOME`, else `~/.hermes`), and
 * what the plugin recorded when Hermes last loaded it — active, or inactive
 * and why (a Hermes that lacks the functions it wraps).
 */
import * as Effect from "effect/Effect"
import { readFile, stat } from "node:fs/promises"
import * as HermesInstall from "@tollgate/gateway/HermesInstall"

/** Field names are part of `doctor --json`'s contract. */
export interface HermesFacts {
  readonly hermes: {
    readonly home: string
    readonly installed: boolean
    /** `null` when not installed; `not-loaded` until Hermes has started with the plugin. */
    readonly plugin: "active" | "inactive" | "not-loaded" | null
    /** Why the plugin is inactive (or what is wrong with it), else `null`. */
    readonly reason: string | null
    /** When Hermes last loaded the plugin (epoch ms). */
    readonly loadedAt: number | null
  }
}

const readJson = async (file: string): Promise<Record<string, unknown> | null> => {
  try {
    const value: unknown = JSON.parse(await readFile(file, "utf8"))
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** Gathers the facts; never fails. */
export const gather: Effect.Effect<HermesFacts> = Effect.promise(async () => {
  const paths = HermesInstall.paths(HermesInstall.hermesHome(process.env))
  const installed = (await readJson(paths.file("install"))) !== null
  const present = await stat(paths.plugin).then(
    () => true,
    () => false
  )
  if (!installed && !present)
    return { hermes: { home: paths.home, installed: false, plugin: null, reason: null, loadedAt: null } }
  const state = await readJson(paths.file("state"))
  const loadedAt = typeof state?.["at"] === "number" ? state["at"] : null
  if (state === null) return { hermes: { home: paths.home, installed, plugin: "not-loaded", reason: null, loadedAt } }
  if (state["active"] === true) {
    const reason =
      state["commandFound"] === false
        ? `the tollgate command in ${paths.file("config")} is missing; run \`tollgate hermes install\` again`
        : null
    return { hermes: { home: paths.home, installed, plugin: "active", reason, loadedAt } }
  }
  const reason = typeof state["reason"] === "string" ? state["reason"] : "unknown"
  return { hermes: { home: paths.home, installed, plugin: "inactive", reason, loadedAt } }
})

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

/** Plain-words lines for the doctor's output. */
export const render = (facts: HermesFacts): ReadonlyArray<readonly [string, string]> => {
  const { hermes } = facts
  const status = (() => {
    switch (hermes.plugin) {
      case null:
        return "not installed (`tollgate hermes install` sets it up)"
      case "not-loaded":
        return "installed; Hermes has not loaded the plugin yet (it does on its next start)"
      case "active":
        return `installed, plugin active (loaded ${hermes.loadedAt === null ? "at an unknown time" : iso(hermes.loadedAt)})${hermes.reason === null ? "" : `, but ${hermes.reason}`}`
      case "inactive":
        return `installed, plugin inactive: ${hermes.reason}; Hermes may refresh Claude Code's login itself (update tollgate, or \`tollgate hermes uninstall\`)`
    }
  })()
  return [
    ["hermes home", hermes.home],
    [
      "hermes",
      hermes.installed || hermes.plugin === null
        ? status
        : `${status} (no install record: run \`tollgate hermes install\` again)`
    ]
  ]
}
