/**
 * The line tollgate ends with on a failure, in its own words rather than a
 * logged cause: nothing for an interruption, the failure's message, or an
 * internal error with its cause. The CLI (bin.ts) first handles the failures
 * it reports differently; `daemon run`'s own entry (daemonRun.ts) uses it as is.
 */
import * as Cause from "effect/Cause"
import * as Option from "effect/Option"

/** The one line a failed run ends with, or `undefined` for an interruption (nothing to say). */
export const line = (cause: Cause.Cause<unknown>): string | undefined => {
  if (Cause.isInterruptedOnly(cause)) return undefined
  const error = Cause.failureOption(cause)
  if (Option.isNone(error)) return `tollgate: internal error\n${Cause.pretty(cause)}`
  return `tollgate: ${error.value instanceof Error ? error.value.message : String(error.value)}`
}
