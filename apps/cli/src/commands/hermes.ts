/**
 * `tollgate hermes install [--dry-run] [--hermes-home DIR] [--port N]` and
 * `tollgate hermes uninstall [--dry-run] [--hermes-home DIR]`: point Hermes
 * Agent at the tollgate gateway and keep it away from Claude Code's
 * credential store (see `HermesConfig`, `HermesPlugin`, `HermesInstall`).
 */
import { Command, Options } from "@effect/cli"
import * as GatewayPaths from "@tollgate/gateway/Paths"
import * as Lazy from "../Lazy.js"
import * as UsageError from "../UsageError.js"

const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Print what would change; write nothing."))
const hermesHome = Options.directory("hermes-home").pipe(
  Options.optional,
  Options.withDescription("Hermes's home (default: $HERMES_HOME, else ~/.hermes, as Hermes itself resolves it).")
)
const port = Options.integer("port").pipe(
  Options.optional,
  Options.withDescription(
    `The gateway's port on 127.0.0.1 (default: $TOLLGATE_GATEWAY_PORT, else ${GatewayPaths.DEFAULT_PORT}).`
  )
)

const installCommand = Command.make("install", { dryRun, hermesHome, port }, (options) =>
  Lazy.handler(
    () => import("../handlers/hermes.js"),
    (m) => m.install(options)
  )
).pipe(
  Command.withDescription(
    "Point Hermes Agent at the tollgate gateway: model.provider and model.base_url in config.yaml, the gateway key as " +
      "ANTHROPIC_TOKEN in .env (0600), Claude Code's login suppressed in auth.json, and a plugin that routes Hermes's own " +
      "Claude Code refreshes through `tollgate token`. Comments and other settings kept, a timestamped backup of each file."
  )
)

const uninstallCommand = Command.make("uninstall", { dryRun, hermesHome }, (options) =>
  Lazy.handler(
    () => import("../handlers/hermes.js"),
    (m) => m.uninstall(options)
  )
).pipe(
  Command.withDescription(
    "Undo `tollgate hermes install`: each file restored from its backup when it is still as install left it, otherwise " +
      "only tollgate's settings taken out; the plugin removed. The gateway key is kept."
  )
)

/** The `hermes` subcommand. */
export const hermes = Command.make(
  "hermes",
  {},
  () =>
    new UsageError.UsageError({
      command: "tollgate hermes",
      detail: "missing command: use `tollgate hermes install` or `tollgate hermes uninstall`"
    })
).pipe(
  Command.withDescription(
    "Set Hermes Agent up to use the tollgate gateway (`tollgate hermes install`), or undo it (`uninstall`)."
  ),
  Command.withSubcommands([installCommand, uninstallCommand])
)
