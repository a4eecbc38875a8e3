/**
 * `tollgate daemon run|install|uninstall|status`: the per-user usage daemon in
 * the foreground, its systemd user unit / launchd agent, and whether it is up.
 */
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as PlatformCommand from "@effect/platform/Command"
import { NodeHttpClient } from "@effect/platform-node"
import { OAuthClient, OAuthConfig } from "@tollgate/core"
import { AtomicFile } from "@tollgate/files"
import { run as runDaemon } from "@tollgate/daemon/Daemon"
import * as Paths from "@tollgate/daemon/Paths"
import * as ServiceUnit from "@tollgate/daemon/ServiceUnit"
import * as SingleInstance from "@tollgate/daemon/SingleInstance"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { accessSync, constants } from "node:fs"
import { delimiter, dirname, join, resolve } from "node:path"
import * as UsageError from "../UsageError.js"

/** How long `status` waits for the daemon's pong. */
const STATUS_PING_MS = 1_000

const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Print what would be done; change nothing."))
const now = Options.boolean("now").pipe(
  Options.withDescription("Also run systemctl / launchctl (when installed) to start or stop the service right away.")
)
const platform = Options.choice("platform", ["linux", "darwin"]).pipe(
  Options.withDescription("Which service manager to write for (default: this machine's)."),
  Options.optional
)
const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object."))

// journald stamps every line itself; a log file (launchd) or a terminal needs our stamp.
const log = (line: string): void => {
  process.stderr.write(process.env["JOURNAL_STREAM"] ? `${line}\n` : `${new Date().toISOString()} ${line}\n`)
}

const run = Command.make("run", {}, () =>
  runDaemon({ paths: Paths.resolve(process.env), log }).pipe(
    Effect.provide(OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(NodeHttpClient.layerUndici))),
    // A signal reaches us as an interruption, which the composition root reports
    // as exit 130. For a service manager a requested stop is a clean exit (with
    // `Restart=on-failure` / `SuccessfulExit=false` a non-zero one reads as a
    // crash), so once the daemon's finalizers have run (socket removed, lock
    // released, state saved) we leave with 0 ourselves.
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        log("tollgate daemon: stopped")
        process.exit(0)
      })
    )
  )
).pipe(Command.withDescription("Run the usage daemon in the foreground (what the service runs), logging to stderr. Exits 0 on SIGTERM or SIGINT."))

const thisPlatform = (option: Option.Option<ServiceUnit.Platform>, command: string) =>
  Effect.gen(function* () {
    if (Option.isSome(option)) return option.value
    if (process.platform === "linux" || process.platform === "darwin") return process.platform
    return yield* new UsageError.UsageError({ command, detail: `no service manager support on ${process.platform}; run \`tollgate daemon run\` yourself` })
  })

const unitFile = (platform: ServiceUnit.Platform, command: string) =>
  Effect.try({
    try: () => ServiceUnit.unitPath(platform, process.env),
    catch: (error) => new UsageError.UsageError({ command, detail: error instanceof Error ? error.message : String(error) })
  })

// The loader flags a source checkout runs under (tsx), so the service starts
// the same way; nothing else from this run's node flags belongs in a service.
const loaderArgs = (execArgv: ReadonlyArray<string>): Array<string> => {
  const kept: Array<string> = []
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] ?? ""
    const next = execArgv[i + 1]
    if (/^--(import|require|loader|experimental-loader)=/.test(arg)) kept.push(arg)
    else if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(arg) && next !== undefined) {
      kept.push(arg, next)
      i++
    }
  }
  return kept
}

// Paths the daemon must agree on with the statusline client and Claude Code.
// A service manager's environment lacks the shell's; paths only, never secrets.
const serviceEnv = (platform: ServiceUnit.Platform): Record<string, string> => {
  const names = ["CLAUDE_CONFIG_DIR", "XDG_STATE_HOME", ...(platform === "darwin" ? ["XDG_RUNTIME_DIR"] : [])]
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])))
}

const onPath = (tool: string): boolean =>
  (process.env["PATH"] ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK)
      return dir !== ""
    } catch {
      return false
    }
  })

const uid = (): number => process.getuid?.() ?? 0

// Runs a service-manager command with its output on ours; a failure is reported, not fatal.
const runTool = (argv: readonly [string, ...Array<string>]) =>
  Effect.gen(function* () {
    yield* Console.log(`$ ${argv.join(" ")}`)
    const code = yield* PlatformCommand.make(...argv).pipe(
      PlatformCommand.stdout("inherit"),
      PlatformCommand.stderr("inherit"),
      PlatformCommand.exitCode,
      Effect.catchAll((error) => Effect.as(Console.error(`tollgate daemon: ${argv[0]} failed: ${error.message}`), -1))
    )
    return code === 0
  })

const startCommands = (platform: ServiceUnit.Platform, file: string): Array<readonly [string, ...Array<string>]> =>
  platform === "linux"
    ? [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", ServiceUnit.SYSTEMD_UNIT]
      ]
    : [["launchctl", "bootstrap", `gui/${uid()}`, file]]

const stopCommands = (platform: ServiceUnit.Platform): Array<readonly [string, ...Array<string>]> =>
  platform === "linux"
    ? [["systemctl", "--user", "disable", "--now", ServiceUnit.SYSTEMD_UNIT]]
    : [["launchctl", "bootout", `gui/${uid()}/${ServiceUnit.LAUNCHD_LABEL}`]]

const shell = (commands: ReadonlyArray<ReadonlyArray<string>>): string => commands.map((c) => c.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(" ")).join(" && ")

const runAll = (commands: ReadonlyArray<readonly [string, ...Array<string>]>) =>
  Effect.gen(function* () {
    for (const command of commands) {
      if (!(yield* runTool(command))) return false
    }
    return true
  })

const install = Command.make("install", { dryRun, now, platform }, (options) =>
  Effect.gen(function* () {
    const name = "tollgate daemon install"
    const target = yield* thisPlatform(options.platform, name)
    const file = yield* unitFile(target, name)
    const entry = process.argv[1]
    if (entry === undefined) return yield* new UsageError.UsageError({ command: name, detail: "cannot tell where the tollgate entry is (no argv[1])" })
    const unit = { execPath: process.execPath, cliPath: resolve(entry), nodeArgs: loaderArgs(process.execArgv), env: serviceEnv(target) }
    const home = process.env["HOME"] ?? ""
    const text = yield* Effect.try({
      try: () => (target === "linux" ? ServiceUnit.systemdUnit(unit) : ServiceUnit.launchdPlist({ ...unit, home })),
      catch: (error) => new UsageError.UsageError({ command: name, detail: error instanceof Error ? error.message : String(error) })
    })
    const next = startCommands(target, file)
    if (options.dryRun) {
      yield* Console.log(`# ${file} (dry run: nothing written)\n${text}\n# then: ${shell(next)}`)
      return
    }

    const fs = yield* FileSystem.FileSystem
    const before = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => null))
    if (before === text) {
      yield* Console.log(`${file} is already installed and up to date.`)
    } else {
      yield* fs.makeDirectory(dirname(file), { recursive: true })
      if (target === "darwin") yield* fs.makeDirectory(dirname(ServiceUnit.launchdLogPath(home)), { recursive: true })
      // Written aside under a random O_EXCL|O_NOFOLLOW name and renamed, so a service manager never
      // reads half a file and no planted name or link at the unit's path is written through.
      yield* Effect.tryPromise({
        try: () => AtomicFile.write(file, text, { mode: 0o644, durable: true }),
        catch: (error) => new Error(`cannot write ${file} (${(error as { code?: string }).code ?? String(error)})`)
      })
      yield* Console.log(`${before === null ? "Wrote" : "Updated"} ${file}:\n${text}`)
    }
    const tool = next[0]?.[0] ?? ""
    if (options.now && onPath(tool)) {
      // `launchctl bootstrap` refuses an agent that is already loaded.
      if (target === "darwin") yield* runAll(stopCommands(target))
      if (!(yield* runAll(next))) return yield* Effect.fail(new Error(`could not start the service; run it yourself: ${shell(next)}`))
      return
    }
    yield* Console.log(options.now ? `${tool} is not on PATH; start the service with: ${shell(next)}` : `Next: ${shell(next)}`)
  })
).pipe(
  Command.withDescription(
    "Write the daemon's service file for this user: a systemd user unit (Linux) or a launchd agent (macOS), running this node and this tollgate. Prints the file and the command that starts it; --now runs that command too."
  )
)

const uninstall = Command.make("uninstall", { dryRun, now, platform }, (options) =>
  Effect.gen(function* () {
    const name = "tollgate daemon uninstall"
    const target = yield* thisPlatform(options.platform, name)
    const file = yield* unitFile(target, name)
    const fs = yield* FileSystem.FileSystem
    const stop = stopCommands(target)
    if (!(yield* fs.exists(file))) {
      yield* Console.log(`Not installed: there is no ${file}.`)
      return
    }
    // `systemctl enable` links the unit into default.target.wants; remove that link with the file.
    const wants = join(dirname(file), "default.target.wants", ServiceUnit.SYSTEMD_UNIT)
    const wantsLink = target === "linux" ? yield* fs.readLink(wants).pipe(Effect.option) : Option.none()
    const linked = Option.isSome(wantsLink) && resolve(dirname(wants), wantsLink.value) === file
    if (options.dryRun) {
      yield* Console.log([`Would remove ${file}`, ...(linked ? [`Would remove ${wants}`] : []), `Stop the service with: ${shell(stop)}`].join("\n"))
      return
    }
    const tool = stop[0]?.[0] ?? ""
    if (options.now && onPath(tool)) yield* runAll(stop)
    yield* fs.remove(file)
    if (linked) yield* fs.remove(wants)
    yield* Console.log(`Removed ${file}${linked ? ` and ${wants}` : ""}.`)
    if (options.now && onPath(tool)) {
      if (target === "linux") yield* runTool(["systemctl", "--user", "daemon-reload"])
    } else {
      const running = yield* Effect.promise(() => SingleInstance.ping(Paths.resolve(process.env).socket, STATUS_PING_MS))
      yield* Console.log(
        target === "linux"
          ? `Next: systemctl --user daemon-reload${running ? ` && systemctl --user stop ${ServiceUnit.SYSTEMD_UNIT}` : ""}`
          : `Next: ${shell(stop)}`
      )
    }
  })
).pipe(Command.withDescription("Remove the daemon's service file (says so if it was not installed); --now also stops and disables the service first."))

const status = Command.make("status", { json }, (options) =>
  Effect.gen(function* () {
    const socket = Paths.resolve(process.env).socket
    const answer = yield* Effect.promise(() => SingleInstance.ping(socket, STATUS_PING_MS))
    yield* Console.log(
      options.json
        ? JSON.stringify({ running: answer !== null, pid: answer?.pid ?? null, socket })
        : answer !== null
          ? `tollgate daemon is running (pid ${answer.pid}, socket ${socket}).`
          : `tollgate daemon is not running (no answer on ${socket}).`
    )
  })
).pipe(Command.withDescription("Say whether the daemon answers on its socket, and its pid. Exits 0 either way."))

/** The `daemon` subcommand and its own subcommands. */
export const daemon = Command.make("daemon", {}, () =>
  new UsageError.UsageError({ command: "tollgate daemon", detail: "missing command: use `run`, `install`, `uninstall` or `status` (see `tollgate daemon --help`)" })
).pipe(
  Command.withDescription("The per-user usage daemon that statuslines ask for quota: run it, install it as a service, or check on it."),
  Command.withSubcommands([run, install, uninstall, status])
)
