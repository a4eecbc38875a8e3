/**
 * Runs the CLI's main effect as a process: SIGINT, SIGTERM and SIGHUP
 * interrupt it, and the process exits only once the interruption has run its
 * course. That matters for `tollgate refresh`: a refresh whose token request
 * is on the wire finishes writing the new login before the locks are released
 * and the process ends (see `RefreshCoordinator.toCompletion`), because
 * stopping in between would log the user out. Signals that arrive meanwhile
 * are acknowledged once and otherwise ignored: the wait is bounded by the
 * token request's timeout.
 *
 * Exit status: the command's own, or 128 + the signal's number when a signal
 * stopped it (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
 */
import { constants } from "node:os"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const

type Signal = (typeof SIGNALS)[number]

/** Runs `effect`; `exitCode` maps its exit to a status when no signal stopped it. */
export const run = <E>(effect: Effect.Effect<void, E>, exitCode: (exit: Exit.Exit<void, E>) => number): void => {
  const fiber = Effect.runFork(effect)
  // The fiber alone does not keep the event loop alive while it waits on a timer-free effect.
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  let received: Signal | undefined
  let acknowledged = false
  const onSignal = (signal: Signal) => {
    if (received === undefined) {
      received = signal
      fiber.unsafeInterruptAsFork(fiber.id())
      return
    }
    if (!acknowledged) {
      acknowledged = true
      process.stderr.write("tollgate: stopping; anything already sent is being saved first so the login is not lost\n")
    }
  }
  for (const signal of SIGNALS) process.on(signal, onSignal)
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    for (const signal of SIGNALS) process.removeListener(signal, onSignal)
    const code =
      received !== undefined && Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
        ? 128 + constants.signals[received]
        : exitCode(exit)
    // Exit at once only when something went wrong: a clean run ends when its last handle closes.
    if (received !== undefined || code !== 0) process.exit(code)
  })
}
