/**
 * `tollgate hermes install [--dry-run] [--hermes-home DIR] [--port N]` and
 * `tollgate hermes uninstall [--dry-run] [--hermes-home DIR]`: point Hermes
 * Agent at the tollgate gateway and keep it away from Claude Code's
 * credential store (see `HermesConfig`, `HermesPlugin`, `HermesInstall`).
 */
import { Command, Options } from "@effect/cli"
import * as GatewayKey from "@tollgate/gateway/GatewayKey"
import * as GatewayPaths from "@tollgate/gateway/Paths"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as HermesInstall from "../HermesInstall.js"
import * as SelfCommand from "../SelfCommand.js"
import * as UsageError from "../UsageError.js"

const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Print what would change; write nothing."))
const hermesHome = Options.directory("hermes-home").pipe(
  Options.optional,
  Options.withDescription("Hermes's home (default: $HERMES_HOME, else ~/.hermes, as Hermes itself resolves it).")
)
const port = Options.integer("port").pipe(
  Options.optional,
  Options.withDescription(`The gateway's port on 127.0.0.1 (default: $TOLLGATE_GATEWAY_PORT, else ${GatewayPaths.DEFAULT_PORT}).`)
)

const log = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

const attempt = <A>(command: string, run: () => Promise<A>) =>
  Effect.tryPromise({
    try: run,
    catch: (error) =>
      error instanceof HermesInstall.Refused || error instanceof GatewayKey.BadKeyFile
        ? new UsageError.UsageError({ command, detail: error.message })
        : new Error(`${command}: ${error instanceof Error ? error.message : String(error)}`)
  })

const installCommand = Command.make("install", { dryRun, hermesHome, port }, (options) =>
  Effect.gen(function* () {
    const name = "tollgate hermes install"
    const chosen = Option.getOrElse(options.port, () => GatewayPaths.port(process.env))
    if (!Number.isInteger(chosen) || chosen < 1 || chosen > 65535) {
      return yield* new UsageError.UsageError({ command: name, detail: "--port must be 1..65535" })
    }
    const command = [...(yield* SelfCommand.resolve("hermes install")).argv]
    const keyFile = GatewayPaths.resolve(process.env).keyFile
    const now = yield* Clock.currentTimeMillis
    yield* attempt(name, async () => {
      // A dry run creates nothing, not even the key.
      const key = options.dryRun ? await GatewayKey.read(keyFile) : await GatewayKey.ensure(keyFile)
      await HermesInstall.install({
        home: HermesInstall.hermesHome(process.env, Option.getOrUndefined(options.hermesHome)),
        port: chosen,
        key,
        keyFile,
        command,
        dryRun: options.dryRun,
        now,
        log
      })
    })
  })
).pipe(
  Command.withDescription(
    "Point Hermes Agent at the tollgate gateway: model.provider and model.base_url in config.yaml, the gateway key as " +
      "ANTHROPIC_TOKEN in .env (0600), Claude Code's login suppressed in auth.json, and a plugin that routes Hermes's own " +
      "Claude Code refreshes through `tollgate token`. Comments and other settings kept, a timestamped backup of each file."
  )
)

const uninstallCommand = Command.make("uninstall", { dryRun, hermesHome }, (options) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    yield* attempt("tollgate hermes uninstall", () =>
      HermesInstall.uninstall({
        home: HermesInstall.hermesHome(process.env, Option.getOrUndefined(options.hermesHome)),
        dryRun: options.dryRun,
        now,
        log
      })
    )
  })
).pipe(
  Command.withDescription(
    "Undo `tollgate hermes install`: each file restored from its backup when it is still as install left it, otherwise " +
      "only tollgate's settings taken out; the plugin removed. The gateway key is kept."
  )
)

/** The `hermes` subcommand. */
export const hermes = Command.make("hermes", {}, () =>
  new UsageError.UsageError({ command: "tollgate hermes", detail: "missing command: use `tollgate hermes install` or `tollgate hermes uninstall`" })
).pipe(
  Command.withDescription("Set Hermes Agent up to use the tollgate gateway (`tollgate hermes install`), or undo it (`uninstall`)."),
  Command.withSubcommands([installCommand, uninstallCommand])
)
