/**
 * `tollgate refresh [--if-needed] [--json]`: refreshes the local Claude Code
 * login safely alongside Claude Code (its locks, its file format), and says
 * what happened.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

const ifNeeded = Options.boolean("if-needed").pipe(
  Options.withDescription("Refresh only when the token expires within five minutes (Claude Code's own rule).")
)
const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object."))

/** The `refresh` subcommand. */
export const refresh = Command.make("refresh", { ifNeeded, json }, (options) =>
  Lazy.handler(
    () => import("../handlers/refresh.js"),
    (m) => m.refresh(options)
  )
).pipe(
  Command.withDescription(
    "Refresh the local Claude Code login safely alongside Claude Code (its own locks; every field kept; atomic write) and say what happened: refreshed, adopted, not needed, or why not."
  )
)
