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
import { OAuthConfig } from "@tollgate/core"
import { AtomicFile, PrivateDirectory } from "@tollgate/files"
import * as GatewayConfig from "@tollgate/gateway/Config"
import * as Gateway from "@tollgate/gateway/Gateway"
import * as GatewayKey from "@tollgate/gateway/GatewayKey"
import * as GatewayPaths from "@tollgate/gateway/Paths"
import * as AccountStore from "@tollgate/opencode/AccountStore"
import * as DaemonForwarder from "@tollgate/opencode/DaemonForwarder"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { join } from "node:path"
import * as ServiceCommands from "../ServiceCommands.js"
import { UsageError } from "../UsageError.js"

const port = Options.integer("port").pipe(
  Options.optional,
  Options.withDescription(`TCP port on 127.0.0.1 (default $TOLLGATE_GATEWAY_PORT, else ${GatewayPaths.DEFAULT_PORT}; 0 picks a free one).`)
)
const portFile = Options.file("port-file").pipe(
  Options.optional,
  Options.withDescription("Write the port the gateway listens on to this file once it listens (for scripts and tests).")
)
const socket = Options.boolean("socket").pipe(
  Options.withDescription("Also listen on a 0600 Unix socket beside the daemon's ($XDG_RUNTIME_DIR/tollgate/gateway.sock).")
)
const drain = Options.integer("drain-seconds").pipe(
  Options.withDefault(Gateway.DEFAULT_DRAIN_MS / 1000),
  Options.withDescription("On SIGTERM / SIGINT, how long requests in flight (streams included) may finish before they are closed.")
)
const json = Options.boolean("json").pipe(Options.withDescription("Print the gateway's answer as JSON."))

// journald stamps every line itself; a log file (launchd) or a terminal needs our stamp.
const log = (line: string): void => {
  process.stderr.write(process.env["JOURNAL_STREAM"] ? `${line}\n` : `${new Date().toISOString()} ${line}\n`)
}

const stateFile = (env: Readonly<Record<string, string | undefined>>): string => {
  const xdg = env["XDG_STATE_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(env["HOME"] ?? "/", ".local", "state"), "tollgate", "gateway-accounts.json")
}

const ensureKey = (command: string) =>
  Effect.tryPromise({
    try: () => GatewayKey.ensure(GatewayPaths.resolve(process.env).keyFile),
    catch: (error) => new UsageError({ command, detail: error instanceof Error ? error.message : String(error) })
  })

const run = Command.make("run", { port, portFile, socket, drain }, (options) =>
  Effect.gen(function* () {
    const name = "tollgate gateway run"
    const env = process.env
    const paths = GatewayPaths.resolve(env)
    const key = yield* ensureKey(name)
    const settings = yield* OAuthConfig.fromConfig().pipe(
      Effect.mapError((error) => new UsageError({ command: name, detail: String(error) }))
    )
    const loaded = yield* Effect.promise(() => GatewayConfig.load(paths.configFile, env))
    for (const problem of loaded.problems) log(`tollgate gateway: ${problem}`)
    if (options.socket) yield* Effect.promise(() => PrivateDirectory.ensure(paths.runtimeDir))
    const running = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          Gateway.listen({
            accounts: loaded.accounts,
            key,
            settings,
            port: Option.getOrElse(options.port, () => GatewayPaths.port(env)),
            socket: options.socket ? paths.socket : null,
            store: AccountStore.make(stateFile(env)),
            forwarder: DaemonForwarder.make(),
            log,
            describeAccounts: loaded.described
          }),
        catch: (error) =>
          new UsageError({
            command: name,
            detail: `cannot listen: ${(error as { code?: string }).code === "EADDRINUSE" ? "the port is in use (another gateway?); pick one with --port" : error instanceof Error ? error.message : String(error)}`
          })
      }),
      (gateway) => Effect.promise(() => gateway.close(options.drain * 1000))
    )
    if (Option.isSome(options.portFile)) {
      const file = options.portFile.value
      yield* Effect.promise(() => AtomicFile.write(file, `${running.port}\n`, { mode: 0o600, durable: false }))
    }
    const described = loaded.described.map((a) => `#${Number(a["index"]) + 1} ${String(a["type"])}${a["store"] ? ` (${String(a["store"])})` : ""}`)
    log(`tollgate gateway: listening on ${running.url}${running.socket ? ` and ${running.socket}` : ""}; accounts: ${described.join(", ")}; upstream ${settings.apiBaseUrl}`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    // A requested stop is a clean exit for a service manager, once the drain has run.
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        log("tollgate gateway: stopped")
        process.exit(0)
      })
    )
  )
).pipe(
  Command.withDescription(
    "Run the gateway in the foreground on 127.0.0.1 (what the service runs), logging to stderr. Clients use the gateway key; SIGTERM / SIGINT drain requests in flight and exit 0."
  )
)

const key = Command.make("key", {}, () =>
  Effect.gen(function* () {
    const value = yield* ensureKey("tollgate gateway key")
    yield* Console.log(value)
  })
).pipe(
  Command.withDescription(
    "Print the gateway key (created 0600 in $XDG_CONFIG_HOME/tollgate/ on first use). Give it to a client as its API key or bearer token; it opens the gateway only."
  )
)

const status = Command.make("status", { port, json }, (options) =>
  Effect.gen(function* () {
    const name = "tollgate gateway status"
    const keyValue = yield* ensureKey(name)
    const url = `${GatewayPaths.baseUrl(Option.getOrElse(options.port, () => GatewayPaths.port(process.env)))}/tollgate/status`
    const answer = yield* Effect.tryPromise(async () => {
      const response = await fetch(url, { headers: { "x-api-key": keyValue }, signal: AbortSignal.timeout(2_000) })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }).pipe(Effect.option)
    if (Option.isNone(answer)) {
      yield* Console.log(options.json ? JSON.stringify({ running: false, url }) : `tollgate gateway is not running (no answer on ${url}).`)
      return
    }
    const body = answer.value.body
    if (options.json) return yield* Console.log(JSON.stringify({ running: true, url, ...body }))
    const gateway = (body["gateway"] ?? {}) as { pid?: number; accounts?: ReadonlyArray<Record<string, unknown>> }
    const seen = (body["seen"] ?? []) as ReadonlyArray<{ account: string; verdict: string }>
    const lines = [`tollgate gateway is running (pid ${gateway.pid ?? "?"}, ${url.replace(/\/tollgate\/status$/, "")}).`]
    for (const account of gateway.accounts ?? []) {
      const label = `#${Number(account["index"]) + 1}`
      const verdict = seen.find((e) => e.account === label)?.verdict ?? "no request yet"
      lines.push(`  ${label} ${String(account["type"])}${account["store"] ? ` ${String(account["store"])}` : ""}: ${verdict}`)
    }
    yield* Console.log(lines.join("\n"))
  })
).pipe(Command.withDescription("Ask the running gateway for its accounts and their last verdicts. Exits 0 either way."))

// What the gateway must agree on with Claude Code and the daemon; paths only, never secrets.
const serviceEnv = (platform: ServiceUnit.Platform): Record<string, string> => {
  const names = ["CLAUDE_CONFIG_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "TOLLGATE_GATEWAY_PORT", ...(platform === "darwin" ? ["XDG_RUNTIME_DIR"] : [])]
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])))
}

const isUp = async (): Promise<boolean> => {
  try {
    const response = await fetch(`${GatewayPaths.baseUrl(GatewayPaths.port(process.env))}/tollgate/status`, { signal: AbortSignal.timeout(1_000) })
    await response.body?.cancel()
    return true
  } catch {
    return false
  }
}

/** The `gateway` subcommand and its own subcommands. */
export const gateway = Command.make("gateway", {}, () =>
  new UsageError({ command: "tollgate gateway", detail: "missing command: use `run`, `key`, `install`, `uninstall` or `status` (see `tollgate gateway --help`)" })
).pipe(
  Command.withDescription("A local Anthropic API endpoint for any runtime, signed with your subscription login: run it, print its key, install it as a service, or check on it."),
  Command.withSubcommands([run, key, ServiceCommands.install(ServiceUnit.GATEWAY, serviceEnv), ServiceCommands.uninstall(ServiceUnit.GATEWAY, isUp), status])
)
