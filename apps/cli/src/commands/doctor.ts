/**
 * `tollgate doctor [--json]`: reports the local Claude Code login without
 * any network call. Always exits 0: a missing or broken login is the answer,
 * not a failure of the command.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of plain words."))

/** The `doctor` subcommand. */
export const doctor = Command.make("doctor", { json }, (options) =>
  Lazy.handler(
    () => import("../handlers/doctor.js"),
    (m) => m.doctor(options)
  )
).pipe(
  Command.withDescription(
    "Inspect the local Claude Code login (CLAUDE_CODE_OAUTH_TOKEN or .credentials.json) without any network " +
      "call: source, file mode, scopes, expiry, subscription, which capabilities it can use, the store backend, " +
      "Claude Code's lock state, the last refresh, the usage daemon (and why statuslines would say `daemon down`), whether Hermes Agent is set up (`tollgate hermes install`) with its plugin active, and which opencode config files list the tollgate plugin (package or file:// bundle). Never prints a token."
  )
)
