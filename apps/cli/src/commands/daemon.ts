/**
 * `tollgate daemon run|install|uninstall|status`: the per-user usage daemon in
 * the foreground, its systemd user unit / launchd agent, and whether it is up.
 */
import { Command, Options } from "@effect/cli"
import { NodeHttpClient } from "@effect/platform-node"
import { OAuthClient, OAuthConfig } from "@tollgate/core"
import { run as runDaemon } from "@tollgate/daemon/Daemon"
import * as Paths from "@tollgate/daemon/Paths"
import * as ServiceUnit from "@tollgate/daemon/ServiceUnit"
import * as SingleInstance from "@tollgate/daemon/SingleInstance"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ServiceCommands from "../ServiceCommands.js"
import * as UsageError from "../UsageError.js"

/** How long `status` waits for the daemon's pong. */
const STATUS_PING_MS = 1_000

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

// Paths the daemon must agree on with the statusline client and Claude Code.
// A service manager's environment lacks the shell's; paths only, never secrets.
const serviceEnv = (platform: ServiceUnit.Platform): Record<string, string> => {
  const names = ["CLAUDE_CONFIG_DIR", "XDG_STATE_HOME", ...(platform === "darwin" ? ["XDG_RUNTIME_DIR"] : [])]
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])))
}


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
  Command.withSubcommands([
    run,
    ServiceCommands.install(ServiceUnit.DAEMON, serviceEnv),
    ServiceCommands.uninstall(ServiceUnit.DAEMON, async () => (await SingleInstance.ping(Paths.resolve(process.env).socket, STATUS_PING_MS)) !== null),
    status
  ])
)
