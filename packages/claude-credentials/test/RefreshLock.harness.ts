// A separate process taking the refresh lock, for the cross-process cases in RefreshLock.test.ts.
//   count <configDir> <log> <rounds>  take the lock <rounds> times, appending "enter|exit <pid> <ms>" lines to <log>
//   hold <configDir> <heartbeatMs>    take it, print HELD, and hold it until killed
import { appendFile } from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as RefreshLock from "../src/RefreshLock.js"
import * as StoreLocation from "../src/StoreLocation.js"

const [mode, configDir = "", log = "", rounds = "1"] = process.argv.slice(2)
const location = StoreLocation.resolve({ HOME: configDir, CLAUDE_CONFIG_DIR: configDir })
const line = (what: string) => Effect.promise(() => appendFile(log, `${what} ${process.pid} ${Date.now()}\n`))

const program =
  mode === "count"
    ? Effect.forEach(
        Array.from({ length: Number(rounds) }),
        () =>
          RefreshLock.withRefreshLock(location, { retryMs: 10, waitMs: 30_000 })(
            Effect.all([line("enter"), Effect.sleep(30), line("exit")], { discard: true })
          ),
        { discard: true }
      )
    : RefreshLock.withRefreshLock(location, { heartbeatMs: Number(log) || 100 })(
        Effect.zipRight(
          Effect.sync(() => process.stdout.write("HELD\n")),
          Effect.never
        )
      )

Effect.runPromise(program).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
