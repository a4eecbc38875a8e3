/**
 * A console that removes ANSI colour when the policy (Ansi.ts) allows none.
 * @effect/cli renders `--help` and its parse errors with ANSI escapes
 * unconditionally, so the policy is applied at the console rather than at
 * each call site.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { isEnabled, strip } from "./Ansi.js"

const plainArgs = (args: ReadonlyArray<unknown>): Array<unknown> =>
  args.map((arg) => (typeof arg === "string" ? strip(arg) : arg))

/** A console that writes through `inner` with every escape sequence removed. */
export const plainConsole = (inner: Console.Console): Console.Console => ({
  ...inner,
  log: (...args) => inner.log(...plainArgs(args)),
  info: (...args) => inner.info(...plainArgs(args)),
  warn: (...args) => inner.warn(...plainArgs(args)),
  error: (...args) => inner.error(...plainArgs(args))
})

/** Runs `effect` with a plain console unless colour is enabled for this process. */
export const applyPolicy = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  isEnabled(process.env, process.stdout.isTTY === true)
    ? effect
    : Console.consoleWith((inner) => Effect.withConsole(effect, plainConsole(inner)))
