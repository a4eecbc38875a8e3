/**
 * `tollgate daemon run` on its own: the entry the dispatcher runs for exactly
 * that command line (what the installed service runs), so the long-lived
 * daemon holds only its own code — not the CLI's parser, help renderer and
 * every other command. `tollgate daemon run --help` and any other arguments
 * go through the full CLI, whose `daemon run` runs the same handler.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { run } from "./handlers/daemon.js"
import * as RunMain from "./RunMain.js"

RunMain.run(
  run().pipe(
    // In the words the full CLI uses (bin.ts): the failure's message, or an internal error with its cause.
    Effect.tapErrorCause((cause) =>
      Effect.sync(() => {
        if (Cause.isInterruptedOnly(cause)) return
        const error = Cause.failureOption(cause)
        process.stderr.write(
          Option.isSome(error) ? `tollgate: ${error.value.message}\n` : `tollgate: internal error\n${Cause.pretty(cause)}\n`
        )
      })
    )
  ),
  (exit) => (Exit.isSuccess(exit) ? 0 : 1)
)
