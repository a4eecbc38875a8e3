/**
 * Installing a tollgate program as a per-user service (the daemon, the
 * gateway): a systemd user unit on Linux, a launchd agent on macOS, written
 * atomically, with the commands that start and stop it.
 */
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as PlatformCommand from "@effect/platform/Command"
import { AtomicFile } from "@tollgate/files"
import * as ServiceUnit from "@tollgate/daemon/ServiceUnit"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { accessSync, constants } from "node:fs"
import { delimiter, dirname, join, resolve } from "node:path"
import * as SelfCommand from "./SelfCommand.js"
import * as UsageError from "./UsageError.js"

const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Print what would be done; change nothing."))
const now = Options.boolean("now").pipe(
  Options.withDescription("Also run systemctl / launchctl (when installed) to start or stop the service right away.")
)
const platform = Options.choice("platform", ["linux", "darwin"]).pipe(
  Options.withDescription("Which service manager to write for (default: this machine's)."),
  Options.optional
)

const thisPlatform = (option: Option.Option<ServiceUnit.Platform>, command: string) =>
  Effect.gen(function* () {
    if (Option.isSome(option)) return option.value
    if (process.platform === "linux" || process.platform === "darwin") return process.platform
    return yield* new UsageError.UsageError({
      command,
      detail: `no service manager support on ${process.platform}; run \`tollgate daemon run\` yourself`
    })
  })

const unitFile = (platform: ServiceUnit.Platform, command: string, service: ServiceUnit.Service) =>
  Effect.try({
    try: () => ServiceUnit.unitPath(platform, process.env, service),
    catch: (error) =>
      new UsageError.UsageError({ command, detail: error instanceof Error ? error.message : String(error) })
  })

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

/**
 * The environment a service gets: the named variables, where this shell sets them, plus XDG_RUNTIME_DIR on macOS
 * (launchd sets none; systemd sets its own). A service manager's environment lacks the shell's, and the service
 * must find the same paths as the programs that talk to it. Paths only, never secrets.
 */
const serviceEnv = (names: ReadonlyArray<string>, platform: ServiceUnit.Platform): Record<string, string> =>
  Object.fromEntries(
    [...names, ...(platform === "darwin" ? ["XDG_RUNTIME_DIR"] : [])].flatMap((name) =>
      process.env[name] ? [[name, process.env[name]]] : []
    )
  )

// Runs a service-manager command with its output on ours; a failure is reported, not fatal.
const runTool = (argv: readonly [string, ...Array<string>]) =>
  Effect.gen(function* () {
    yield* Console.log(`$ ${argv.join(" ")}`)
    const code = yield* PlatformCommand.make(...argv).pipe(
      PlatformCommand.stdout("inherit"),
      PlatformCommand.stderr("inherit"),
      PlatformCommand.exitCode,
      Effect.catchAll((error) => Effect.as(Console.error(`tollgate: ${argv[0]} failed: ${error.message}`), -1))
    )
    return code === 0
  })

const startCommands = (
  platform: ServiceUnit.Platform,
  file: string,
  service: ServiceUnit.Service
): Array<readonly [string, ...Array<string>]> =>
  platform === "linux"
    ? [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", service.systemdUnit]
      ]
    : [["launchctl", "bootstrap", `gui/${uid()}`, file]]

const stopCommands = (
  platform: ServiceUnit.Platform,
  service: ServiceUnit.Service
): Array<readonly [string, ...Array<string>]> =>
  platform === "linux"
    ? [["systemctl", "--user", "disable", "--now", service.systemdUnit]]
    : [["launchctl", "bootout", `gui/${uid()}/${service.launchdLabel}`]]

const shell = (commands: ReadonlyArray<ReadonlyArray<string>>): string =>
  commands
    .map((c) => c.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(" "))
    .join(" && ")

const runAll = (commands: ReadonlyArray<readonly [string, ...Array<string>]>) =>
  Effect.gen(function* () {
    for (const command of commands) {
      if (!(yield* runTool(command))) return false
    }
    return true
  })

/**
 * `tollgate <service> install`: writes the service file for this user (a
 * systemd user unit or a launchd agent running this node and this tollgate)
 * and prints it with the command that starts it; `--now` runs that too.
 */
export const install = (service: ServiceUnit.Service, envNames: ReadonlyArray<string>) =>
  Command.make("install", { dryRun, now, platform }, (options) =>
    Effect.gen(function* () {
      const name = `tollgate ${service.command[0]} install`
      const target = yield* thisPlatform(options.platform, name)
      const file = yield* unitFile(target, name, service)
      const self = yield* SelfCommand.resolve(name.replace(/^tollgate /, ""))
      const unit = {
        service,
        execPath: self.node,
        cliPath: self.dispatcher,
        nodeArgs: [],
        env: serviceEnv(envNames, target)
      }
      const home = process.env["HOME"] ?? ""
      const text = yield* Effect.try({
        try: () => (target === "linux" ? ServiceUnit.systemdUnit(unit) : ServiceUnit.launchdPlist({ ...unit, home })),
        catch: (error) =>
          new UsageError.UsageError({ command: name, detail: error instanceof Error ? error.message : String(error) })
      })
      const next = startCommands(target, file, service)
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
        if (target === "darwin")
          yield* fs.makeDirectory(dirname(ServiceUnit.launchdLogPath(home, service)), { recursive: true })
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
        if (target === "darwin") yield* runAll(stopCommands(target, service))
        if (!(yield* runAll(next)))
          return yield* Effect.fail(new Error(`could not start the service; run it yourself: ${shell(next)}`))
        return
      }
      yield* Console.log(
        options.now ? `${tool} is not on PATH; start the service with: ${shell(next)}` : `Next: ${shell(next)}`
      )
    })
  ).pipe(
    Command.withDescription(
      `Write the ${service.description}'s service file for this user: a systemd user unit (Linux) or a launchd agent (macOS), running this node and this tollgate. Prints the file and the command that starts it; --now runs that command too.`
    )
  )

/**
 * `tollgate <service> uninstall`: removes the service file (and systemd's
 * wants link); `--now` stops and disables the service first. `running` says
 * whether the service answers, for the advice printed otherwise.
 */
export const uninstall = (service: ServiceUnit.Service, running: () => Promise<boolean>) =>
  Command.make("uninstall", { dryRun, now, platform }, (options) =>
    Effect.gen(function* () {
      const name = `tollgate ${service.command[0]} uninstall`
      const target = yield* thisPlatform(options.platform, name)
      const file = yield* unitFile(target, name, service)
      const fs = yield* FileSystem.FileSystem
      const stop = stopCommands(target, service)
      if (!(yield* fs.exists(file))) {
        yield* Console.log(`Not installed: there is no ${file}.`)
        return
      }
      // `systemctl enable` links the unit into default.target.wants; remove that link with the file.
      const wants = join(dirname(file), "default.target.wants", service.systemdUnit)
      const wantsLink = target === "linux" ? yield* fs.readLink(wants).pipe(Effect.option) : Option.none()
      const linked = Option.isSome(wantsLink) && resolve(dirname(wants), wantsLink.value) === file
      if (options.dryRun) {
        yield* Console.log(
          [
            `Would remove ${file}`,
            ...(linked ? [`Would remove ${wants}`] : []),
            `Stop the service with: ${shell(stop)}`
          ].join("\n")
        )
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
        const up = yield* Effect.promise(running)
        yield* Console.log(
          target === "linux"
            ? `Next: systemctl --user daemon-reload${up ? ` && systemctl --user stop ${service.systemdUnit}` : ""}`
            : `Next: ${shell(stop)}`
        )
      }
    })
  ).pipe(
    Command.withDescription(
      `Remove the ${service.description}'s service file (says so if it was not installed); --now also stops and disables the service first.`
    )
  )
