/**
 * `tollgate opencode install [--project|--global] [--dry-run] [--plugin PATH]`.
 *
 * Adds the tollgate opencode plugin, as a `file://` URL of its built bundle,
 * to the `plugin` list of an `opencode.json`: the project's (`./opencode.json`
 * in the current directory, the default) or the global one
 * (`$XDG_CONFIG_HOME/opencode/opencode.json`, else `~/.config/...`). Like
 * `statusline install`: a read-modify-write of the whole object that keeps
 * every other key and every other plugin entry, a timestamped backup first,
 * then temp file + rename. A file with comments (JSONC) is refused rather
 * than rewritten without them.
 */
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as ConfigFile from "../ConfigFile.js"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as os from "node:os"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as UsageError from "../UsageError.js"

/** Mode for an opencode.json that does not exist yet (umask applies). */
export const NEW_FILE_MODE = 0o644

/** How to build the bundle when it is missing. */
export const BUILD_HINT = "pnpm --filter @tollgate/opencode build"

/** What install will do to one opencode.json. */
export interface Plan {
  readonly before: ReadonlyArray<unknown> | undefined
  readonly after: ReadonlyArray<unknown>
  /** The new file text, or `null` when the plugin is already listed. */
  readonly text: string | null
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Whether JSON text has `//` or `/* *\/` comments outside strings (opencode
 * accepts them; JSON.parse does not, and rewriting would drop them).
 */
export const hasComments = (text: string): boolean => {
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === "\\") i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) return true
  }
  return false
}

// An entry is a spec string or `[spec, options]`.
const specOf = (entry: unknown): unknown => (Array.isArray(entry) ? entry[0] : entry)

/**
 * Plans the change from the current file text (`null`: no file). Left: why
 * the file must not be touched.
 */
export const plan = (current: string | null, spec: string): Either.Either<Plan, string> => {
  let config: Record<string, unknown> = {}
  if (current !== null && current.trim() !== "") {
    if (hasComments(current)) {
      return Either.left(
        "it has comments (JSONC), which a rewrite would lose; add " +
          `"${spec}" to its "plugin" list by hand`
      )
    }
    let json: unknown
    try {
      json = JSON.parse(current)
    } catch (e) {
      return Either.left(`it is not valid JSON (${e instanceof Error ? e.message : String(e)}); fix or move it first`)
    }
    if (!isObject(json)) return Either.left("it is valid JSON but not an object; fix or move it first")
    config = json
  }
  const before = config["plugin"]
  if (before !== undefined && !Array.isArray(before)) {
    return Either.left(`its "plugin" is not a list (${JSON.stringify(before)}); fix it first`)
  }
  const list: ReadonlyArray<unknown> = before ?? []
  if (list.some((entry) => specOf(entry) === spec)) return Either.right({ before: list, after: list, text: null })
  const after = [...list, spec]
  const next = config["$schema"] === undefined && current === null
    ? { $schema: "https://opencode.ai/config.json", plugin: after }
    : { ...config, plugin: after }
  return Either.right({ before, after, text: `${JSON.stringify(next, null, 2)}\n` })
}

const nonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")))

/** `$XDG_CONFIG_HOME/opencode/opencode.json`, else `$HOME/.config/opencode/opencode.json`. */
export const globalConfigPath = Effect.gen(function* () {
  const path = yield* Path.Path
  const xdg = yield* nonEmpty("XDG_CONFIG_HOME")
  const home = yield* Config.string("HOME").pipe(Config.withDefault(os.homedir()))
  return path.join(Option.getOrElse(xdg, () => path.join(home, ".config")), "opencode", "opencode.json")
})

/** The bundle next to this CLI in the monorepo (or an installed @tollgate/opencode). */
export const defaultBundle = (): string =>
  fileURLToPath(new URL("../../../../packages/opencode/dist/tollgate-opencode.js", import.meta.url))

const show = (value: unknown): string => (value === undefined ? "(none)" : JSON.stringify(value))

const install = (options: { readonly global: boolean; readonly dryRun: boolean; readonly plugin: Option.Option<string> }) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const target = options.global ? yield* globalConfigPath : path.resolve("opencode.json")
    const { refuse, failed } = ConfigFile.refusals("opencode install", target)

    const bundle = path.resolve(Option.getOrElse(options.plugin, defaultBundle))
    const built = yield* fs.exists(bundle).pipe(Effect.orElseSucceed(() => false))
    if (!built) {
      return yield* refuse(
        Option.isSome(options.plugin)
          ? `the plugin file ${bundle} does not exist`
          : `the plugin bundle ${bundle} is not built yet; build it with \`${BUILD_HINT}\` and run this again`
      )
    }
    const spec = pathToFileURL(yield* fs.realPath(bundle).pipe(Effect.mapError(failed("resolve the plugin for")))).href

    const found = yield* ConfigFile.read(target, failed)
    const { exists, current } = found
    const change = yield* Either.mapLeft(plan(current, spec), (why) => refuse(`not changing ${target}: ${why}`))

    yield* Console.log(`opencode config: ${target}${exists ? "" : " (new file)"}`)
    yield* Console.log(`  plugin before: ${show(change.before)}`)
    yield* Console.log(`  plugin after:  ${show(change.after)}`)
    if (change.text === null) return yield* Console.log("Already installed; nothing to write.")
    if (options.dryRun) return yield* Console.log("Dry run: nothing written.")

    yield* ConfigFile.replace(found, change.text, NEW_FILE_MODE, failed)
    yield* Console.log("Installed: opencode loads it from its next start. Inside opencode, /tollgate shows accounts and usage.")
  })

const project = Options.boolean("project").pipe(
  Options.withDescription("Install into ./opencode.json in the current directory (the default).")
)
const globalFlag = Options.boolean("global").pipe(
  Options.withDescription("Install into $XDG_CONFIG_HOME/opencode/opencode.json (else ~/.config/opencode).")
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Show the change and the target file; write nothing."))
const plugin = Options.file("plugin").pipe(
  Options.optional,
  Options.withDescription(`The plugin bundle to install (default: the built one; \`${BUILD_HINT}\`).`)
)

const installCommand = Command.make("install", { project, global: globalFlag, dryRun, plugin }, (o) =>
  Effect.gen(function* () {
    if (o.project && o.global) {
      return yield* new UsageError.UsageError({
        command: "tollgate opencode install",
        detail: "give --project or --global, not both"
      })
    }
    return yield* install({ global: o.global, dryRun: o.dryRun, plugin: o.plugin })
  })
).pipe(
  Command.withDescription(
    "Add the tollgate plugin to opencode.json (the project's by default, or the global one), keeping every " +
      "other key and plugin and a timestamped backup of the old file."
  )
)

/** The `opencode` subcommand. */
export const opencode = Command.make("opencode", {}, () =>
  Effect.fail(new UsageError.UsageError({ command: "tollgate opencode", detail: "missing command: use `tollgate opencode install`" }))
).pipe(
  Command.withDescription("Set up the tollgate plugin for opencode (`tollgate opencode install`)."),
  Command.withSubcommands([installCommand])
)
