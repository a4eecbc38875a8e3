/**
 * `tollgate classify [--file PATH]`: reads one observed response as JSON and
 * prints the core classifier's verdict as JSON.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

const file = Options.file("file").pipe(
  Options.withPseudoName("PATH"),
  Options.withDescription("Read the JSON document from this file instead of stdin."),
  Options.optional
)

/** The `classify` subcommand. */
export const classify = Command.make("classify", { file }, (options) =>
  Lazy.handler(
    () => import("../handlers/classify.js"),
    (m) => m.classify(options)
  )
).pipe(
  Command.withDescription(
    "Classify one Anthropic OAuth response. Reads a JSON document " +
      "{endpoint, status, transportError?, headers?, body?, credential?: {scopes?, expiresAt?}, now?} " +
      "from stdin (or --file) and prints the verdict as JSON."
  )
)
