/** What `tollgate hermes install|uninstall` do (their definitions are in commands/hermes.ts). */
import * as GatewayKey from "@tollgate/gateway/GatewayKey"
import * as GatewayPaths from "@tollgate/gateway/Paths"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as HermesInstall from "@tollgate/gateway/HermesInstall"
import * as SelfCommand from "../SelfCommand.js"
import * as UsageError from "../UsageError.js"

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

/** Points Hermes Agent at the gateway (its config edited with a backup, the plugin installed) or shows what would change. */
export const install = (options: {
  readonly dryRun: boolean
  readonly hermesHome: Option.Option<string>
  readonly port: Option.Option<number>
}) =>
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

/** Undoes `tollgate hermes install`, restoring Hermes Agent's own settings, or shows what would change. */
export const uninstall = (options: { readonly dryRun: boolean; readonly hermesHome: Option.Option<string> }) =>
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
