/**
 * `tollgate daemon run` on its own: the entry the dispatcher runs for exactly
 * that command line (what the installed service runs), so the long-lived
 * daemon holds only its own code — not the CLI's parser, help renderer and
 * every other command. `tollgate daemon run --help` and any other arguments
 * go through the full CLI, whose `daemon run` runs the same handler.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { run } from "./handlers/daemon.js"
import * as Report from "./Report.js"
import * as RunMain from "./RunMain.js"

RunMain.run(
  run().pipe(
    // In the words the full CLI uses (Report.ts).
    Effect.tapErrorCause((cause) =>
      Effect.sync(() => {
        const text = Report.line(cause)
        if (text !== undefined) process.stderr.write(`${text}\n`)
      })
    )
  ),
  (exit) => (Exit.isSuccess(exit) ? 0 : 1)
)
