/**
 * The `tollgate` command's composition root: wires the subcommands, provides
 * the Node layers, and turns the outcome into an exit code.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import pkg from "../package.json" with { type: "json" }
import { classify } from "./commands/classify.js"
import { conformance } from "./commands/conformance.js"
import { daemon } from "./commands/daemon.js"
import { doctor } from "./commands/doctor.js"
import { gateway } from "./commands/gateway.js"
import { hermes } from "./commands/hermes.js"
import { opencode } from "./commands/opencode.js"
import { refresh } from "./commands/refresh.js"
import { sim } from "./commands/sim.js"
import { status } from "./commands/status.js"
import { statusline } from "./commands/statusline.js"
import { token } from "./commands/token.js"
import { RefreshFailed } from "./RefreshFailed.js"
import * as Report from "./Report.js"
import * as RunMain from "./RunMain.js"
import * as TerminalColor from "./TerminalColor.js"
import * as UsageError from "./UsageError.js"

const tollgate = Command.make(
  "tollgate",
  {},
  () =>
    new UsageError.UsageError({
      command: "tollgate",
      detail:
        "missing command: use `tollgate conformance`, `tollgate sim`, `tollgate refresh`, `tollgate token`, `tollgate classify` or `tollgate doctor` (see `tollgate --help`)"
    })
).pipe(
  Command.withDescription("Keeps agent runtimes healthy on Anthropic subscription OAuth."),
  Command.withSubcommands([
    conformance,
    sim,
    refresh,
    token,
    classify,
    doctor,
    daemon,
    gateway,
    statusline,
    opencode,
    hermes,
    status
  ])
)

const run = Command.run(tollgate, { name: "tollgate", version: pkg.version })

const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.isInterruptedOnly(exit.cause)) return 130
  const error = Cause.failureOption(exit.cause)
  if (Option.isSome(error)) {
    if (error.value instanceof UsageError.UsageError) return UsageError.EXIT_CODE
    if (error.value instanceof RefreshFailed) return error.value.exitCode
    // @effect/cli has already printed what was wrong with the arguments.
    if (ValidationError.isValidationError(error.value)) return UsageError.EXIT_CODE
  }
  return 1
}

// Error reporting is ours rather than runMain's, so that a usage error is one
// line on stderr instead of a logged cause.
const report = (cause: Cause.Cause<unknown>): Effect.Effect<void> => {
  const error = Cause.failureOption(cause)
  if (Option.isSome(error)) {
    // @effect/cli has already printed what was wrong with the arguments; a failed refresh was reported in its own words.
    if (ValidationError.isValidationError(error.value) || error.value instanceof RefreshFailed) return Effect.void
    if (error.value instanceof UsageError.UsageError) return Console.error(error.value.message)
  }
  const text = Report.line(cause)
  return text === undefined ? Effect.void : Console.error(text)
}

RunMain.run(
  run(process.argv).pipe(Effect.tapErrorCause(report), TerminalColor.applyPolicy, Effect.provide(NodeContext.layer)),
  exitCode
)
