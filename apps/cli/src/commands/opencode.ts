/**
 * `tollgate opencode install [--project|--global] [--dry-run] [--from-checkout | --plugin PATH]`
 * and `tollgate opencode uninstall [--project|--global] [--dry-run]`.
 *
 * Install adds the tollgate opencode plugin to the `plugin` list of the
 * opencode config file opencode actually reads (see `OpenCodeConfig`): by
 * default as the package `@tollgate/opencode@<this CLI's version>`, which
 * opencode installs itself; as the `file://` URL of a bundle only with
 * `--from-checkout` (this checkout's build) or `--plugin PATH`. The file is
 * the project's (the default), in the directory the user ran the command from
 * — `INIT_CWD` when pnpm runs it as a script, since pnpm moves the cwd to the
 * workspace root — or the global one. It is edited in place with
 * `jsonc-parser`, so comments and formatting survive; an older tollgate entry
 * (either form) is replaced, other plugins are kept; a file that does not
 * parse is refused and left as it is. A timestamped backup, then an atomic
 * write that keeps the file's mode. Uninstall takes every tollgate entry, in
 * either form, out of the scope's files the same way.
 */
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as os from "node:os"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as ConfigFile from "../ConfigFile.js"
import * as OpenCodeConfig from "@tollgate/opencode/OpenCodeConfig"
import * as UsageError from "../UsageError.js"
import pkg from "../../package.json" with { type: "json" }

/** Mode for a config file that does not exist yet (umask applies). */
export const NEW_FILE_MODE = 0o644

/** What install writes by default: the plugin package at this CLI's own version. */
export const PACKAGE_SPEC = OpenCodeConfig.packageSpec(pkg.version)

/** How to build the bundle when it is missing. */
export const BUILD_HINT = "pnpm --filter @tollgate/opencode build"

const nonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")))

/** opencode's global config directory: `$XDG_CONFIG_HOME/opencode`, else `$HOME/.config/opencode`. */
export const globalConfigDir = Effect.gen(function* () {
  const path = yield* Path.Path
  const xdg = yield* nonEmpty("XDG_CONFIG_HOME")
  const home = yield* Config.string("HOME").pipe(Config.withDefault(os.homedir()))
  return path.join(
    Option.getOrElse(xdg, () => path.join(home, ".config")),
    "opencode"
  )
})

/**
 * The directory the user ran the command from: pnpm runs `pnpm tollgate` at
 * the workspace root and puts the caller's directory in `INIT_CWD`.
 */
export const projectDir = Effect.gen(function* () {
  const path = yield* Path.Path
  const init = yield* nonEmpty("INIT_CWD")
  return Option.match(init, {
    onNone: () => ({ dir: process.cwd(), from: "the current directory" }),
    onSome: (dir) => ({ dir: path.resolve(dir), from: "INIT_CWD, where pnpm was run" })
  })
})

/**
 * The bundle in the same checkout as this CLI: four levels up from this
 * module run from source (`apps/cli/src/commands/`) and from the bundle it is
 * built into (`apps/cli/dist/cli/`).
 */
export const defaultBundle = (): string =>
  fileURLToPath(new URL("../../../../packages/opencode/dist/tollgate-opencode.js", import.meta.url))

const show = (value: unknown): string => (value === undefined ? "(none)" : JSON.stringify(value))

/** Where the plugin comes from: npm by name (the default), this checkout's build, or a bundle the user names. */
export type Source =
  | { readonly _tag: "Package" }
  | { readonly _tag: "Checkout" }
  | { readonly _tag: "File"; readonly path: string }

const install = (options: { readonly global: boolean; readonly dryRun: boolean; readonly source: Source }) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const user = yield* projectDir
    const where = options.global ? { dir: yield* globalConfigDir, from: "opencode's global config directory" } : user
    const { refuse, failed } = ConfigFile.refusals("opencode install", where.dir)

    const bundleSpec = (bundle: string, missing: string) =>
      Effect.gen(function* () {
        const built = yield* fs.exists(bundle).pipe(Effect.orElseSucceed(() => false))
        if (!built) return yield* refuse(missing)
        return pathToFileURL(yield* fs.realPath(bundle).pipe(Effect.mapError(failed("resolve the plugin for")))).href
      })
    const source = options.source
    const spec =
      source._tag === "Package"
        ? PACKAGE_SPEC
        : source._tag === "Checkout"
          ? yield* bundleSpec(
              defaultBundle(),
              `--from-checkout needs this checkout's built plugin at ${defaultBundle()}, which does not exist; build it with ` +
                `\`${BUILD_HINT}\` and run this again, or leave out --from-checkout to install ${PACKAGE_SPEC} by name`
            )
          : // A relative --plugin is the user's, not pnpm's workspace root's.
            yield* bundleSpec(
              path.resolve(user.dir, source.path),
              `the plugin file ${path.resolve(user.dir, source.path)} does not exist`
            )

    const readAll = (dir: string, names: ReadonlyArray<string>) =>
      Effect.forEach(names, (name) =>
        ConfigFile.read(path.join(dir, name), failed).pipe(Effect.map((f) => ({ path: f.target, text: f.current })))
      )
    const candidates = yield* readAll(
      where.dir,
      options.global ? OpenCodeConfig.GLOBAL_NAMES : OpenCodeConfig.PROJECT_NAMES
    )
    const fresh = path.join(where.dir, options.global ? OpenCodeConfig.GLOBAL_NEW : OpenCodeConfig.PROJECT_NEW)
    const target = yield* Either.mapLeft(
      (options.global ? OpenCodeConfig.pickGlobal : OpenCodeConfig.pickProject)(candidates, fresh),
      (why) => refuse(why)
    )
    const change = yield* Either.mapLeft(OpenCodeConfig.plan(target.parsed, spec), (why) =>
      refuse(`not changing ${target.path}: ${why}`)
    )

    yield* Console.log(`${options.global ? "global" : "project"} directory: ${where.dir} (${where.from})`)
    yield* Console.log(`opencode config: ${target.path} (${target.why})`)
    yield* Console.log(`  plugin before: ${show(change.before)}`)
    yield* Console.log(`  plugin after:  ${show(change.after)}`)
    // The other scope (and the scope's other files) can list tollgate too: opencode would load both copies.
    const other = options.global
      ? { scope: "project" as const, dir: user.dir, names: OpenCodeConfig.PROJECT_NAMES }
      : { scope: "global" as const, dir: yield* globalConfigDir, names: OpenCodeConfig.GLOBAL_NAMES }
    const elsewhere = [
      ...OpenCodeConfig.otherCopies(candidates, options.global ? "global" : "project", spec, target.path),
      ...OpenCodeConfig.otherCopies(
        yield* readAll(other.dir, other.names).pipe(Effect.orElseSucceed(() => [])),
        other.scope,
        spec,
        target.path
      )
    ]
    for (const copy of elsewhere) {
      yield* Console.log(`  note: ${copy.path} also lists ${copy.spec}; opencode loads that copy too, remove it there`)
    }
    if (change.text === null) return yield* Console.log("Already installed; nothing to write.")
    if (options.dryRun) return yield* Console.log("Dry run: nothing written.")

    const found = yield* ConfigFile.read(target.path, failed)
    if (found.current !== (target.parsed?.text ?? null)) {
      return yield* refuse(`${target.path} changed while it was being read; run this again`)
    }
    yield* ConfigFile.replace(found, change.text, NEW_FILE_MODE, failed)
    yield* Console.log(
      "Installed: opencode loads it from its next start. Inside opencode, /tollgate shows accounts and usage."
    )
  })

const project = Options.boolean("project").pipe(
  Options.withDescription(
    "Install into the opencode.json(c) of the directory you run this from (the default; INIT_CWD under pnpm)."
  )
)
const globalFlag = Options.boolean("global").pipe(
  Options.withDescription(
    "Install into the global config opencode reads ($XDG_CONFIG_HOME/opencode, else ~/.config/opencode: opencode.jsonc, opencode.json or config.json)."
  )
)
const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription("Show the change and the target file; write nothing.")
)
const plugin = Options.file("plugin").pipe(
  Options.optional,
  Options.withDescription("Install this plugin bundle, as a file:// URL, instead of the package.")
)
const fromCheckout = Options.boolean("from-checkout").pipe(
  Options.withDescription(
    `Install this checkout's built bundle as a file:// URL instead of the package (\`${BUILD_HINT}\` builds it).`
  )
)

const scopeOf = (command: string, o: { readonly project: boolean; readonly global: boolean }) =>
  o.project && o.global
    ? Effect.fail(new UsageError.UsageError({ command, detail: "give --project or --global, not both" }))
    : Effect.succeed(o.global)

const installCommand = Command.make("install", { project, global: globalFlag, dryRun, plugin, fromCheckout }, (o) =>
  Effect.gen(function* () {
    const command = "tollgate opencode install"
    const global = yield* scopeOf(command, o)
    if (o.fromCheckout && Option.isSome(o.plugin)) {
      return yield* new UsageError.UsageError({ command, detail: "give --from-checkout or --plugin, not both" })
    }
    const source: Source = Option.isSome(o.plugin)
      ? { _tag: "File", path: o.plugin.value }
      : o.fromCheckout
        ? { _tag: "Checkout" }
        : { _tag: "Package" }
    return yield* install({ global, dryRun: o.dryRun, source })
  })
).pipe(
  Command.withDescription(
    `Add the tollgate plugin (${PACKAGE_SPEC}, which opencode installs itself) to the opencode config file opencode ` +
      "reads (the project's by default, or the global one), edited in place: comments, formatting and other plugins " +
      "kept, a timestamped backup of the old file."
  )
)

const uninstall = (options: { readonly global: boolean; readonly dryRun: boolean }) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const user = yield* projectDir
    const dir = options.global ? yield* globalConfigDir : user.dir
    const names = options.global ? OpenCodeConfig.GLOBAL_NAMES : OpenCodeConfig.PROJECT_NAMES
    let removed = 0
    for (const name of names) {
      const target = path.join(dir, name)
      const { refuse, failed } = ConfigFile.refusals("opencode uninstall", target)
      const found = yield* ConfigFile.read(target, failed)
      if (found.current === null) continue
      const config = yield* Either.mapLeft(OpenCodeConfig.parse(found.current), (why) =>
        refuse(`not changing ${target}: ${why}; fix or move it first`)
      )
      const change = yield* Either.mapLeft(
        OpenCodeConfig.planRemove({ path: target, text: found.current, config }),
        (why) => refuse(`not changing ${target}: ${why}`)
      )
      if (change.text === null) continue
      removed++
      yield* Console.log(`opencode config: ${target}`)
      yield* Console.log(`  plugin before: ${show(change.before)}`)
      yield* Console.log(`  plugin after:  ${show(change.after)}`)
      if (!options.dryRun) yield* ConfigFile.replace(found, change.text, NEW_FILE_MODE, failed)
    }
    const scope = options.global ? "global" : "project"
    if (removed === 0) return yield* Console.log(`Not installed: no ${scope} opencode config in ${dir} lists tollgate.`)
    yield* Console.log(
      options.dryRun ? "Dry run: nothing written." : "Removed: opencode no longer loads it from its next start."
    )
  })

const uninstallCommand = Command.make("uninstall", { project, global: globalFlag, dryRun }, (o) =>
  Effect.flatMap(scopeOf("tollgate opencode uninstall", o), (global) => uninstall({ global, dryRun: o.dryRun }))
).pipe(
  Command.withDescription(
    "Take the tollgate plugin (the package or a file:// bundle) out of the project's opencode config files, or the " +
      "global ones with --global; every other byte kept, a timestamped backup of each file changed."
  )
)

/** The `opencode` subcommand. */
export const opencode = Command.make("opencode", {}, () =>
  Effect.fail(
    new UsageError.UsageError({
      command: "tollgate opencode",
      detail: "missing command: use `tollgate opencode install` or `tollgate opencode uninstall`"
    })
  )
).pipe(
  Command.withDescription(
    "Set up the tollgate plugin for opencode (`tollgate opencode install`), or take it out (`uninstall`)."
  ),
  Command.withSubcommands([installCommand, uninstallCommand])
)
