/**
 * `tollgate token [--min-valid SECONDS] [--if-token FINGERPRINT] [--json]`:
 * prints an access token from the Claude Code login, valid for at least
 * `--min-valid` seconds, for a runtime that cannot refresh safely itself.
 * Any refresh goes through the same Refresher as `tollgate refresh` (Claude
 * Code's locks, a token another process rotated adopted without a call,
 * every field kept), so N callers at once spend the refresh token once.
 *
 * The token goes to stdout and nowhere else; every error is one line on
 * stderr without it, with `refresh`'s exit codes.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

/** Claude Code's own margin, in seconds. */
export const DEFAULT_MIN_VALID_SECONDS = 300

const minValid = Options.integer("min-valid").pipe(
  Options.withDefault(DEFAULT_MIN_VALID_SECONDS),
  Options.withDescription(
    "Refresh unless the token stays valid this many seconds (default 300, Claude Code's margin; at most an hour is honoured)."
  )
)
const ifToken = Options.text("if-token").pipe(
  Options.optional,
  Options.withDescription(
    "The fingerprint (fp_ and 16 hex digits) of the token that just got a 401: refresh only if the store still holds it, else print the newer one."
  )
)
const json = Options.boolean("json").pipe(
  Options.withDescription("Print {accessToken, expiresAt, fingerprint, outcome} as one JSON object.")
)

/** The `token` subcommand. */
export const token = Command.make("token", { minValid, ifToken, json }, (options) =>
  Lazy.handler(
    () => import("../handlers/token.js"),
    (m) => m.token(options)
  )
).pipe(
  Command.withDescription(
    "Print an access token from the Claude Code login, valid for at least --min-valid seconds, refreshing safely alongside Claude Code when needed (its locks; one refresh for any number of callers). For runtimes that would otherwise refresh the login themselves."
  )
)
