/**
 * Bad input from the person or script running tollgate: exit code 2, one
 * line on stderr, nothing on stdout.
 */
import * as Schema from "effect/Schema"

/** Input a command cannot work with. `command` is the full command name, e.g. `tollgate classify`. */
export class UsageError extends Schema.TaggedError<UsageError>("@tollgate/cli/UsageError")("UsageError", {
  command: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.command}: ${this.detail}`
  }
}

/** The exit code for a usage error, as most Unix tools use it. */
export const EXIT_CODE = 2
