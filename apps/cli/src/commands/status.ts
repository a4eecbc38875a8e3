/**
 * `tollgate status [--json]`: every account the opencode plugin recorded in
 * its shared state file (`$XDG_STATE_HOME/tollgate/opencode-accounts.json`,
 * written by every opencode process): last verdict, 5-hour and 7-day usage,
 * reset, how long it is skipped, token-endpoint backoffs. The same table as
 * `/tollgate` inside opencode. No network call; keys are fingerprints or
 * account ids, never a token. Always exits 0: no file is an answer too.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of a table."))

/** The `status` subcommand. */
export const status = Command.make("status", { json }, (options) =>
  Lazy.handler(
    () => import("../handlers/status.js"),
    (m) => m.status(options)
  )
).pipe(
  Command.withDescription(
    "Show every Anthropic account the tollgate opencode plugin has used, from the state file all opencode " +
      "processes share: last verdict, 5-hour and 7-day usage, reset, skip and backoff. No network call; never prints a token."
  )
)
