/** What `tollgate token` does (its definition is in commands/token.ts). */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { ClaudeCredentials, StoreLocation } from "@tollgate/claude-credentials"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { NOT_PERSISTED_EXIT, RefreshFailed } from "../RefreshFailed.js"
import * as RefreshState from "@tollgate/claude-credentials/RefreshState"
import { UsageError } from "../UsageError.js"

// Checked, never echoed: someone may paste the token itself here by mistake.
const FINGERPRINT = /^fp_[0-9a-f]{16}$/

// Messages are single sentences already; a line break would still split the one error line.
const oneLine = (message: string): string => message.replace(/\s*\n\s*/g, " ")

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
    const state = yield* RefreshState.load
    const backoff = yield* Backoff.make(Backoff.defaultConfig, state.backoff)
    const location = yield* StoreLocation.fromConfig
    const result = yield* Effect.gen(function* () {
      const opened = yield* ClaudeCredentials.open(location)
      return yield* opened.refresher.refresh({ minValidMs: options.minValid * 1000, rejectedFingerprint: rejected })
    }).pipe(
      Effect.provideService(Backoff.Backoff, backoff),
      Effect.provide(
        OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(FetchHttpClient.layer))
      ),
      Effect.either
    )
    const now = yield* Clock.currentTimeMillis
    if (result._tag === "Right") {
      const outcome = result.right
      const message = `tollgate token: ${outcome._tag} (${outcome.fingerprint})`
      yield* RefreshState.save({
        version: 1,
        backoff: yield* backoff.snapshot,
        last: { at: now, outcome: outcome._tag, message }
      })
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
    const error = result.left
    const tag = "_tag" in error ? String(error._tag) : "Error"
    yield* RefreshState.save({
      version: 1,
      backoff: yield* backoff.snapshot,
      last: { at: now, outcome: tag, message: error.message }
    })
    yield* Console.error(`tollgate token: ${oneLine(error.message)}`)
    return yield* Effect.fail(new RefreshFailed(tag === "RefreshNotPersisted" ? NOT_PERSISTED_EXIT : 1))
  })
