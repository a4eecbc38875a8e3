/**
 * `tollgate statusline` and `tollgate statusline install [--dry-run]`.
 *
 * The bare command is the statusline client itself; the dispatcher in
 * `main.ts` normally runs it without loading this module (or Effect) at all,
 * and the handler here only covers `bin.ts` run directly.
 *
 * `install` points Claude Code's `statusLine` at this node and the built
 * dispatcher, by absolute paths (never TypeScript sources or tsx), in
 * `settings.json` under `$CLAUDE_CONFIG_DIR` (else `~/.claude`): a read-modify-write of the whole object that keeps every
 * other setting, a timestamped backup first, then temp file + rename. The
 * mode is kept; a new file gets 0644 (before umask), as Claude Code creates
 * it — settings.json holds no credential of Claude Code's own.
 */
import { Command, Options } from "@effect/cli"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as ConfigFile from "../ConfigFile.js"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as os from "node:os"
import * as SelfCommand from "../SelfCommand.js"

/** What install writes under `statusLine`. */
export interface StatusLine {
  readonly type: "command"
  readonly command: string
  readonly padding: 0
}

/** Mode for a settings.json that does not exist yet (Claude Code's own choice; umask applies). */
export const NEW_FILE_MODE = 0o644

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/
const shellQuote = (word: string): string => (SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)

/**
 * The shell command Claude Code will run: this node and the built
 * dispatcher, by absolute paths, so neither PATH nor a version manager
 * decides what runs (see `SelfCommand` for how the dispatcher is found).
 */
export const command = (self: Pick<SelfCommand.Self, "node" | "dispatcher">): string =>
  [self.node, self.dispatcher, "statusline"].map(shellQuote).join(" ")

/** What install will do to one settings file. */
export interface Plan {
  readonly before: unknown
  readonly after: StatusLine
  /** The new file text, or `null` when the same statusLine is already there. */
  readonly text: string | null
  /** A different statusLine was configured and is being replaced. */
  readonly replaces: boolean
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Plans the change from the current file text (`null`: no file). Left: why
 * the file must not be touched.
 */
export const plan = (current: string | null, statusLine: StatusLine): Either.Either<Plan, string> => {
  let settings: Record<string, unknown> = {}
  if (current !== null && current.trim() !== "") {
    let json: unknown
    try {
      json = JSON.parse(current)
    } catch (e) {
      return Either.left(`it is not valid JSON (${e instanceof Error ? e.message : String(e)}); fix or move it first`)
    }
    if (!isObject(json)) return Either.left("it is valid JSON but not an object; fix or move it first")
    settings = json
  }
  const before = settings["statusLine"]
  const same = isObject(before) && JSON.stringify(before) === JSON.stringify(statusLine)
  // Replacing the value in place keeps the key where the user had it; a new key goes last.
  const next = { ...settings, statusLine }
  return Either.right({
    before,
    after: statusLine,
    text: same ? null : `${JSON.stringify(next, null, 2)}\n`,
    replaces: before !== undefined && !same
  })
}

const nonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")))

/** `$CLAUDE_CONFIG_DIR/settings.json`, else `$HOME/.claude/settings.json`. */
export const settingsPath = Effect.gen(function* () {
  const path = yield* Path.Path
  const configDir = yield* nonEmpty("CLAUDE_CONFIG_DIR")
  const home = yield* Config.string("HOME").pipe(Config.withDefault(os.homedir()))
  return path.join(
    Option.getOrElse(configDir, () => path.join(home, ".claude")),
    "settings.json"
  )
})

const show = (value: unknown): string => (value === undefined ? "(none)" : JSON.stringify(value))

const install = (dryRun: boolean) =>
  Effect.gen(function* () {
    const target = yield* settingsPath
    const { refuse, failed } = ConfigFile.refusals("statusline install", target)

    const self = yield* SelfCommand.resolve("statusline install")
    const statusLine: StatusLine = { type: "command", command: command(self), padding: 0 }

    const found = yield* ConfigFile.read(target, failed)
    const { exists, current } = found
    const change = yield* Either.mapLeft(plan(current, statusLine), (why) => refuse(`not changing ${target}: ${why}`))

    yield* Console.log(`Claude Code settings: ${target}${exists ? "" : " (new file)"}`)
    yield* Console.log(`  statusLine before: ${show(change.before)}`)
    yield* Console.log(`  statusLine after:  ${show(change.after)}`)
    if (change.text === null) return yield* Console.log("Already installed; nothing to write.")
    if (dryRun) return yield* Console.log("Dry run: nothing written.")

    yield* ConfigFile.replace(found, change.text, NEW_FILE_MODE, failed)
    if (change.replaces) yield* Console.log("Replaced the statusLine that was configured before (it is in the backup).")
    yield* Console.log("Installed: Claude Code runs it from its next start.")
  })

const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription("Show the change and the target file; write nothing.")
)

const installCommand = Command.make("install", { dryRun }, ({ dryRun }) => install(dryRun)).pipe(
  Command.withDescription(
    "Set Claude Code's statusLine (settings.json in $CLAUDE_CONFIG_DIR, else ~/.claude) to `tollgate statusline`, " +
      "keeping every other setting and a timestamped backup of the old file."
  )
)

/** The `statusline` subcommand. */
export const statusline = Command.make("statusline", {}, () =>
  Effect.promise(() => import("@tollgate/daemon/statusline/main").then(({ run }) => run()))
).pipe(
  Command.withDescription(
    "Print one status line for Claude Code (`🚦 5h:42% 7d:13%`) from its stdin JSON and the tollgate daemon, " +
      "within 100 ms, always exit 0. Put it in settings.json with `tollgate statusline install`."
  ),
  Command.withSubcommands([installCommand])
)
