/**
 * `tollgate conformance`: every registered adapter through every applicable
 * scenario on the embedded simulator; a matrix on stdout, and a JSON and a
 * Markdown report on disk. Needs no credentials and no network.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

const reportDir = Options.directory("report-dir").pipe(
  Options.withDescription("Where conformance-report.json and conformance-report.md are written."),
  Options.withDefault(".")
)

/** The `conformance` subcommand. */
export const conformance = Command.make("conformance", { reportDir }, (options) =>
  Lazy.handler(
    () => import("../handlers/conformance.js"),
    (m) => m.conformance(options)
  )
).pipe(
  Command.withDescription(
    "Run every registered adapter through the shared suites on the embedded simulator and print the pass/fail matrix; exits non-zero when anything fails."
  )
)
