// One entry for every cross-process test, bundled with esbuild at test start
// (see bundle.ts) so a child is up in a fraction of what tsx would take.
//
//   refresh <simUrl> <goFile|-> [keychain <securityPath>]
//       The store Claude Code would use (from HOME / CLAUDE_CONFIG_DIR in the
//       environment), refreshed with `ifNeeded` against the simulator's plain
//       HTTP URL. Prints "ready", waits for <goFile>, then one
//       "RESULT <json>" line; exit 0 on success, 1 on a failure. Every span
//       the refresh opens is reported as it starts and ends, with a
//       synchronous write: "MARK tollgate.refresh.request:start <hrtime ns>", …
//       (so a test that SIGKILLs it knows which phase it was in).
//   write-loop <configDir> <counter>
//       Prints "start", then writes crashDocument(counter + 1), (counter + 2), …
//       with FileStore, printing each counter once its write has completed,
//       until killed.
//   rmw <configDir> <writer> <rounds> <goFile> lock|nolock
//       Prints "ready", waits for <goFile>, then <rounds> times reads the store,
//       appends the round to claudeAiOauth.writer<writer> and writes it back,
//       under the storage-write lock or (the negative control) without it.
//
// Every Effect log line goes to stderr, at every level, so a test can read it.
import { existsSync, writeSync } from "node:fs"
import { NodeHttpClient } from "@effect/platform-node"
import { Backoff, type Credential, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as ClaudeCredentials from "../../src/ClaudeCredentials.js"
import * as FileStore from "../../src/FileStore.js"
import * as RefreshLock from "../../src/RefreshLock.js"
import * as StoreLocation from "../../src/StoreLocation.js"
import { crashDocument } from "./documents.js"
import { marking } from "./spans.js"

const [mode = "", ...args] = process.argv.slice(2)

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const stderrLogger = Logger.make(({ logLevel, message, cause }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  const detail = Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause)}`
  process.stderr.write(`[${logLevel.label}] ${text}${detail}\n`)
})

const logging = Layer.merge(Logger.replace(Logger.defaultLogger, stderrLogger), Logger.minimumLogLevel(LogLevel.All))

/** Polls for the go-file every 5 ms, so every child starts its work within a few ms of the others. */
const waitFor = (goFile: string) =>
  goFile === "-"
    ? Effect.void
    : Effect.async<void>((resume) => {
        const look = () => (existsSync(goFile) ? resume(Effect.void) : void setTimeout(look, 5))
        look()
      })

const locationOf = (configDir: string) => StoreLocation.resolve({ HOME: configDir, CLAUDE_CONFIG_DIR: configDir })

const refresh = (simUrl: string, goFile: string, keychain: string | undefined) =>
  Effect.gen(function* () {
    const location = yield* StoreLocation.fromConfig
    yield* say("ready")
    yield* waitFor(goFile)
    const started = Date.now()
    const result = yield* ClaudeCredentials.open(
      location,
      keychain === undefined ? { platform: "linux" } : { platform: "darwin", securityPath: keychain }
    ).pipe(
      Effect.flatMap((opened) => opened.refresher.refresh({ ifNeeded: true })),
      Effect.provide(Layer.effect(Backoff.Backoff, Backoff.make())),
      Effect.provide(
        OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: simUrl, oauthBaseUrl: simUrl })))
      ),
      Effect.provide(NodeHttpClient.layerUndici),
      marking((name, edge) => void writeSync(1, `MARK ${name}:${edge} ${process.hrtime.bigint()}\n`)),
      Effect.either
    )
    const ms = Date.now() - started
    if (result._tag === "Right") {
      yield* say(
        `RESULT ${JSON.stringify({ ok: true, outcome: result.right._tag, fingerprint: result.right.fingerprint, ms })}`
      )
      return 0
    }
    const error = result.left
    yield* Effect.logError("refresh failed", error)
    yield* say(
      `RESULT ${JSON.stringify({ ok: false, tag: "_tag" in error ? error._tag : "Error", message: error.message, string: String(error), json: error, ms })}`
    )
    return 1
  })

const writeLoop = (configDir: string, from: number) =>
  Effect.gen(function* () {
    const store = FileStore.make(locationOf(configDir))
    yield* say("start")
    for (let counter = from + 1; ; counter++) {
      yield* store.write(crashDocument(counter) as Credential.Document)
      yield* say(String(counter))
    }
  })

const rmw = (configDir: string, writer: number, rounds: number, goFile: string, locked: boolean) =>
  Effect.gen(function* () {
    const location = locationOf(configDir)
    const store = FileStore.make(location)
    const field = `writer${writer}`
    const once = (round: number) =>
      Effect.gen(function* () {
        const current = yield* store.read
        if (Option.isNone(current) || current.value.claudeAiOauth === undefined) {
          return yield* Effect.dieMessage("the store lost its login")
        }
        const record = current.value.claudeAiOauth
        const mine = Array.isArray(record[field]) ? (record[field] as ReadonlyArray<number>) : []
        yield* store.write({ ...current.value, claudeAiOauth: { ...record, [field]: [...mine, round] } })
      })
    const guard = locked
      ? RefreshLock.withStorageWriteLock(location, { retryMs: 20 })
      : <A, E, R>(e: Effect.Effect<A, E, R>) => e
    yield* say("ready")
    yield* waitFor(goFile)
    for (let round = 1; round <= rounds; round++) yield* guard(once(round))
    yield* say("done")
    return 0
  })

const main = (): Effect.Effect<number, unknown> => {
  switch (mode) {
    case "refresh": {
      const [simUrl = "", goFile = "-", kind, securityPath] = args
      return refresh(simUrl, goFile, kind === "keychain" ? securityPath : undefined)
    }
    case "write-loop": {
      const [configDir = "", from = "0"] = args
      return writeLoop(configDir, Number(from))
    }
    case "rmw": {
      const [configDir = "", writer = "0", rounds = "1", goFile = "-", lock = "lock"] = args
      return rmw(configDir, Number(writer), Number(rounds), goFile, lock === "lock")
    }
    default:
      return Effect.dieMessage(`unknown harness mode ${JSON.stringify(mode)}`)
  }
}

Effect.runPromise(main().pipe(Effect.provide(logging))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`harness failed: ${String(error)}\n`)
    process.exit(2)
  }
)
