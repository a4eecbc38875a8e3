/**
 * `tollgate daemon run|install|uninstall|status`: the per-user usage daemon in
 * the foreground, its systemd user unit / launchd agent, and whether it is up.
 */
import { Command, Options } from "@effect/cli"
import * as Paths from "@tollgate/daemon/Paths"
import * as ServiceUnit from "@tollgate/daemon/ServiceUnit"
import * as SingleInstance from "@tollgate/daemon/SingleInstance"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Lazy from "../Lazy.js"
import * as ServiceCommands from "../ServiceCommands.js"
import * as UsageError from "../UsageError.js"

/** How long `status` waits for the daemon's pong. */
const STATUS_PING_MS = 1_000

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object."))

const run = Command.make("run", {}, () =>
  Lazy.handler(
    () => import("../handlers/daemon.js"),
    (m) => m.run()
  )
).pipe(
  Command.withDescription(
    "Run the usage daemon in the foreground (what the service runs), logging to stderr. Exits 0 on SIGTERM or SIGINT."
  )
)

// Paths the daemon must agree on with the statusline client and Claude Code.
const SERVICE_ENV = ["CLAUDE_CONFIG_DIR", "XDG_STATE_HOME"]

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
export const daemon = Command.make(
  "daemon",
  {},
  () =>
    new UsageError.UsageError({
      command: "tollgate daemon",
      detail: "missing command: use `run`, `install`, `uninstall` or `status` (see `tollgate daemon --help`)"
    })
).pipe(
  Command.withDescription(
    "The per-user usage daemon that statuslines ask for quota: run it, install it as a service, or check on it."
  ),
  Command.withSubcommands([
    run,
    ServiceCommands.install(ServiceUnit.DAEMON, SERVICE_ENV),
    ServiceCommands.uninstall(
      ServiceUnit.DAEMON,
      async () => (await SingleInstance.ping(Paths.resolve(process.env).socket, STATUS_PING_MS)) !== null
    ),
    status
  ])
)
