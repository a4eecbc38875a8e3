/** What `tollgate gateway run|key|status` do (their definitions are in commands/gateway.ts). */
import { OAuthConfig } from "@tollgate/core"
import { AtomicFile, PrivateDirectory } from "@tollgate/files"
import * as GatewayConfig from "@tollgate/gateway/Config"
import * as Gateway from "@tollgate/gateway/Gateway"
import * as GatewayKey from "@tollgate/gateway/GatewayKey"
import * as GatewayPaths from "@tollgate/gateway/Paths"
import * as AccountStore from "@tollgate/requests/AccountStore"
import * as DaemonForwarder from "@tollgate/requests/DaemonForwarder"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { UsageError } from "../UsageError.js"
import { log } from "../ServiceLog.js"

const ensureKey = (command: string) =>
  Effect.tryPromise({
    try: () => GatewayKey.ensure(GatewayPaths.resolve(process.env).keyFile),
    catch: (error) => new UsageError({ command, detail: error instanceof Error ? error.message : String(error) })
  })

/** Runs the gateway in the foreground on loopback (and optionally a Unix socket) until a signal, then drains. */
export const run = (options: {
  readonly port: Option.Option<number>
  readonly portFile: Option.Option<string>
  readonly socket: boolean
  readonly drain: number
}) =>
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
            store: AccountStore.make(paths.stateFile),
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
    const described = loaded.described.map(
      (a) => `#${Number(a["index"]) + 1} ${String(a["type"])}${a["store"] ? ` (${String(a["store"])})` : ""}`
    )
    log(
      `tollgate gateway: listening on ${running.url}${running.socket ? ` and ${running.socket}` : ""}; accounts: ${described.join(", ")}; upstream ${settings.apiBaseUrl}`
    )
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

/** Prints the gateway key, creating it (0600, in a 0700 directory) on first use. */
export const key = () =>
  Effect.gen(function* () {
    const value = yield* ensureKey("tollgate gateway key")
    yield* Console.log(value)
  })

/** Asks a running gateway for its status and prints it, or says clearly that none is listening. */
export const status = (options: { readonly port: Option.Option<number>; readonly json: boolean }) =>
  Effect.gen(function* () {
    const name = "tollgate gateway status"
    const keyValue = yield* ensureKey(name)
    const url = `${GatewayPaths.baseUrl(Option.getOrElse(options.port, () => GatewayPaths.port(process.env)))}/tollgate/status`
    const answer = yield* Effect.tryPromise(async () => {
      const response = await fetch(url, { headers: { "x-api-key": keyValue }, signal: AbortSignal.timeout(2_000) })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }).pipe(Effect.option)
    if (Option.isNone(answer)) {
      yield* Console.log(
        options.json
          ? JSON.stringify({ running: false, url })
          : `tollgate gateway is not running (no answer on ${url}).`
      )
      return
    }
    const body = answer.value.body
    if (options.json) return yield* Console.log(JSON.stringify({ running: true, url, ...body }))
    const gateway = (body["gateway"] ?? {}) as { pid?: number; accounts?: ReadonlyArray<Record<string, unknown>> }
    const seen = (body["seen"] ?? []) as ReadonlyArray<{ account: string; verdict: string }>
    const lines = [
      `tollgate gateway is running (pid ${gateway.pid ?? "?"}, ${url.replace(/\/tollgate\/status$/, "")}).`
    ]
    for (const account of gateway.accounts ?? []) {
      const label = `#${Number(account["index"]) + 1}`
      const verdict = seen.find((e) => e.account === label)?.verdict ?? "no request yet"
      lines.push(
        `  ${label} ${String(account["type"])}${account["store"] ? ` ${String(account["store"])}` : ""}: ${verdict}`
      )
    }
    yield* Console.log(lines.join("\n"))
  })
