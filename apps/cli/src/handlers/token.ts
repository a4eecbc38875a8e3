/** What `tollgate token` does (its definition is in commands/token.ts). */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as RecordedRefresh from "../RecordedRefresh.js"
import { UsageError } from "../UsageError.js"

// Checked, never echoed: someone may paste the token itself here by mistake.
const FINGERPRINT = /^fp_[0-9a-f]{16}$/

// Messages are single sentences already; a line break would still split the one error line.
const oneLine = (message: string): string => message.replace(/\s*\n\s*/g, " ")

/** Prints an access token valid for `--min-valid` seconds, refreshing (and recording it) only when needed. */
export const token = (options: {
  readonly minValid: number
  readonly ifToken: Option.Option<string>
  readonly json: boolean
}) =>
  Effect.gen(function* () {
    if (options.minValid < 0) {
      return yield* new UsageError({ command: "tollgate token", detail: "--min-valid must be 0 or more seconds" })
    }
    const rejected = Option.getOrUndefined(options.ifToken)
    if (rejected !== undefined && !FINGERPRINT.test(rejected)) {
      return yield* new UsageError({
        command: "tollgate token",
        detail:
          "--if-token takes a token's fingerprint (fp_ and 16 hex digits, as `tollgate refresh --json` prints it), not a token"
      })
    }
    const recorded = yield* RecordedRefresh.run(
      (opened) => opened.refresher.refresh({ minValidMs: options.minValid * 1000, rejectedFingerprint: rejected }),
      (outcome) => `tollgate token: ${outcome._tag} (${outcome.fingerprint})`
    )
    if (recorded._tag === "Done") {
      const { outcome } = recorded
      const accessToken = Redacted.value(outcome.accessToken)
      yield* Console.log(
        options.json
          ? JSON.stringify({
              accessToken,
              expiresAt: outcome.expiresAt,
              fingerprint: outcome.fingerprint,
              outcome: outcome._tag
            })
          : accessToken
      )
      return
    }
    yield* Console.error(`tollgate token: ${oneLine(recorded.message)}`)
    return yield* Effect.fail(recorded.exit)
  })
