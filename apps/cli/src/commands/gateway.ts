/**
 * `tollgate gateway run|key|install|uninstall|status`: the local Anthropic API
 * endpoint any runtime can use with the gateway key (Hermes, SDK scripts,
 * `claude` with `ANTHROPIC_BASE_URL`), its key, its user service, and what it
 * sees.
 *
 * The gateway runs as its own process, not inside the usage daemon: the
 * daemon is built to sit idle with no timer and ~0 wake-ups and to answer a
 * statusline within its budget, while the gateway carries request traffic
 * and long streams; a crash or a drain of one must not take the other with
 * it. The gateway hands every unified rate-limit header to the daemon, so
 * the daemon still knows the quota without polling.
 */
import { Command, Options } from "@effect/cli"
import * as ServiceUnit from "@tollgate/daemon/ServiceUnit"
import * as GatewayPaths from "@tollgate/gateway/Paths"
import * as Lazy from "../Lazy.js"
import * as ServiceCommands from "../ServiceCommands.js"
import { UsageError } from "../UsageError.js"

/** The gateway's own default (`Gateway.DEFAULT_DRAIN_MS`, which a test holds this to), named here so `--help` loads no gateway. */
export const DEFAULT_DRAIN_SECONDS = 30

const port = Options.integer("port").pipe(
  Options.optional,
  Options.withDescription(
    `TCP port on 127.0.0.1 (default $TOLLGATE_GATEWAY_PORT, else ${GatewayPaths.DEFAULT_PORT}; 0 picks a free one).`
  )
)
const portFile = Options.file("port-file").pipe(
  Options.optional,
  Options.withDescription("Write the port the gateway listens on to this file once it listens (for scripts and tests).")
)
const socket = Options.boolean("socket").pipe(
  Options.withDescription(
    "Also listen on a 0600 Unix socket beside the daemon's ($XDG_RUNTIME_DIR/tollgate/gateway.sock)."
  )
)
const drain = Options.integer("drain-seconds").pipe(
  Options.withDefault(DEFAULT_DRAIN_SECONDS),
  Options.withDescription(
    "On SIGTERM / SIGINT, how long requests in flight (streams included) may finish before they are closed."
  )
)
const json = Options.boolean("json").pipe(Options.withDescription("Print the gateway's answer as JSON."))

const run = Command.make("run", { port, portFile, socket, drain }, (options) =>
  Lazy.handler(
    () => import("../handlers/gateway.js"),
    (m) => m.run(options)
  )
).pipe(
  Command.withDescription(
    "Run the gateway in the foreground on 127.0.0.1 (what the service runs), logging to stderr. Clients use the gateway key; SIGTERM / SIGINT drain requests in flight and exit 0."
  )
)

const key = Command.make("key", {}, () =>
  Lazy.handler(
    () => import("../handlers/gateway.js"),
    (m) => m.key()
  )
).pipe(
  Command.withDescription(
    "Print the gateway key (created 0600 in $XDG_CONFIG_HOME/tollgate/ on first use). Give it to a client as its API key or bearer token; it opens the gateway only."
  )
)

const status = Command.make("status", { port, json }, (options) =>
  Lazy.handler(
    () => import("../handlers/gateway.js"),
    (m) => m.status(options)
  )
).pipe(Command.withDescription("Ask the running gateway for its accounts and their last verdicts. Exits 0 either way."))

// What the gateway must agree on with Claude Code and the daemon.
const SERVICE_ENV = ["CLAUDE_CONFIG_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "TOLLGATE_GATEWAY_PORT"]

const isUp = async (): Promise<boolean> => {
  try {
    const response = await fetch(`${GatewayPaths.baseUrl(GatewayPaths.port(process.env))}/tollgate/status`, {
      signal: AbortSignal.timeout(1_000)
    })
    await response.body?.cancel()
    return true
  } catch {
    return false
  }
}

/** The `gateway` subcommand and its own subcommands. */
export const gateway = Command.make(
  "gateway",
  {},
  () =>
    new UsageError({
      command: "tollgate gateway",
      detail: "missing command: use `run`, `key`, `install`, `uninstall` or `status` (see `tollgate gateway --help`)"
    })
).pipe(
  Command.withDescription(
    "A local Anthropic API endpoint for any runtime, signed with your subscription login: run it, print its key, install it as a service, or check on it."
  ),
  Command.withSubcommands([
    run,
    key,
    ServiceCommands.install(ServiceUnit.GATEWAY, SERVICE_ENV),
    ServiceCommands.uninstall(ServiceUnit.GATEWAY, isUp),
    status
  ])
)
