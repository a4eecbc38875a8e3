/**
 * `tollgate daemon|gateway install|uninstall`: the options, the output, and
 * running the service manager; what is written, removed and run comes from
 * `@tollgate/daemon/ServiceInstall`.
 */
import { Command, Options } from "@effect/cli"
import * as PlatformCommand from "@effect/platform/Command"
import * as ServiceInstall from "@tollgate/daemon/ServiceInstall"
import * as ServiceUnit from "@tollgate/daemon/ServiceUnit"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
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

const uid = (): number => process.getuid?.() ?? 0
const onPath = (tool: string) => Effect.promise(() => ServiceInstall.onPath(tool, process.env["PATH"]))

// Runs a service-manager command with its output on ours; a failure is reported, not fatal.
const runTool = (argv: ServiceInstall.Argv) =>
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

const runAll = (commands: ReadonlyArray<ServiceInstall.Argv>) =>
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
        env: ServiceInstall.serviceEnv(envNames, target, process.env)
      }
      const home = process.env["HOME"] ?? ""
      const text = yield* Effect.try({
        try: () => ServiceInstall.render(target, unit, home),
        catch: (error) =>
          new UsageError.UsageError({ command: name, detail: error instanceof Error ? error.message : String(error) })
      })
      const next = ServiceInstall.startCommands(target, file, service, uid())
      if (options.dryRun) {
        yield* Console.log(`# ${file} (dry run: nothing written)\n${text}\n# then: ${ServiceInstall.shellLine(next)}`)
        return
      }
      const outcome = yield* Effect.tryPromise({
        try: () => ServiceInstall.writeUnit({ file, text, platform: target, home, service }),
        catch: (error) => new Error(`cannot write ${file} (${(error as { code?: string }).code ?? String(error)})`)
      })
      yield* Console.log(
        outcome === "unchanged"
          ? `${file} is already installed and up to date.`
          : `${outcome === "written" ? "Wrote" : "Updated"} ${file}:\n${text}`
      )
      const tool = next[0]?.[0] ?? ""
      if (options.now && (yield* onPath(tool))) {
        // `launchctl bootstrap` refuses an agent that is already loaded.
        if (target === "darwin") yield* runAll(ServiceInstall.stopCommands(target, service, uid()))
        if (!(yield* runAll(next)))
          return yield* Effect.fail(
            new Error(`could not start the service; run it yourself: ${ServiceInstall.shellLine(next)}`)
          )
        return
      }
      yield* Console.log(
        options.now
          ? `${tool} is not on PATH; start the service with: ${ServiceInstall.shellLine(next)}`
          : `Next: ${ServiceInstall.shellLine(next)}`
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
      const stop = ServiceInstall.stopCommands(target, service, uid())
      const plan = yield* Effect.promise(() => ServiceInstall.removal(target, file, service))
      if (plan === null) {
        yield* Console.log(`Not installed: there is no ${file}.`)
        return
      }
      if (options.dryRun) {
        yield* Console.log(
          [
            `Would remove ${plan.file}`,
            ...(plan.wants !== null ? [`Would remove ${plan.wants}`] : []),
            `Stop the service with: ${ServiceInstall.shellLine(stop)}`
          ].join("\n")
        )
        return
      }
      const tool = stop[0]?.[0] ?? ""
      const runNow = options.now && (yield* onPath(tool))
      if (runNow) yield* runAll(stop)
      yield* Effect.tryPromise({
        try: () => ServiceInstall.remove(plan),
        catch: (error) => new Error(`cannot remove ${file} (${(error as { code?: string }).code ?? String(error)})`)
      })
      yield* Console.log(`Removed ${plan.file}${plan.wants !== null ? ` and ${plan.wants}` : ""}.`)
      if (runNow) {
        if (target === "linux") yield* runTool(["systemctl", "--user", "daemon-reload"])
      } else {
        const up = yield* Effect.promise(running)
        yield* Console.log(
          target === "linux"
            ? `Next: systemctl --user daemon-reload${up ? ` && systemctl --user stop ${service.systemdUnit}` : ""}`
            : `Next: ${ServiceInstall.shellLine(stop)}`
        )
      }
    })
  ).pipe(
    Command.withDescription(
      `Remove the ${service.description}'s service file (says so if it was not installed); --now also stops and disables the service first.`
    )
  )
