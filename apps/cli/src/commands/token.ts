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
import { NodeHttpClient } from "@effect/platform-node"
import { ClaudeCredentials, StoreLocation } from "@tollgate/claude-credentials"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as RefreshState from "../RefreshState.js"
import { UsageError } from "../UsageError.js"
import { NOT_PERSISTED_EXIT, RefreshFailed } from "./refresh.js"

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
const json = Options.boolean("json").pipe(Options.withDescription("Print {accessToken, expiresAt, fingerprint, outcome} as one JSON object."))

// Checked, never echoed: someone may paste the token itself here by mistake.
const FINGERPRINT = /^fp_[0-9a-f]{16}$/

// Messages are single sentences already; a line break would still split the one error line.
const oneLine = (message: string): string => message.replace(/\s*\n\s*/g, " ")

/** The `token` subcommand. */
export const token = Command.make("token", { minValid, ifToken, json }, (options) =>
  Effect.gen(function* () {
    if (options.minValid < 0) {
      return yield* new UsageError({ command: "tollgate token", detail: "--min-valid must be 0 or more seconds" })
    }
    const rejected = Option.getOrUndefined(options.ifToken)
    if (rejected !== undefined && !FINGERPRINT.test(rejected)) {
      return yield* new UsageError({
        command: "tollgate token",
        detail: "--if-token takes a token's fingerprint (fp_ and 16 hex digits, as `tollgate refresh --json` prints it), not a token"
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
      Effect.provide(OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(NodeHttpClient.layerUndici))),
      Effect.either
    )
    const now = yield* Clock.currentTimeMillis
    if (result._tag === "Right") {
      const outcome = result.right
      const message = `tollgate token: ${outcome._tag} (${outcome.fingerprint})`
      yield* RefreshState.save({ version: 1, backoff: yield* backoff.snapshot, last: { at: now, outcome: outcome._tag, message } })
      const accessToken = Redacted.value(outcome.accessToken)
      yield* Console.log(
        options.json
          ? JSON.stringify({ accessToken, expiresAt: outcome.expiresAt, fingerprint: outcome.fingerprint, outcome: outcome._tag })
          : accessToken
      )
      return
    }
    const error = result.left
    const tag = "_tag" in error ? String(error._tag) : "Error"
    yield* RefreshState.save({ version: 1, backoff: yield* backoff.snapshot, last: { at: now, outcome: tag, message: error.message } })
    yield* Console.error(`tollgate token: ${oneLine(error.message)}`)
    return yield* Effect.fail(new RefreshFailed(tag === "RefreshNotPersisted" ? NOT_PERSISTED_EXIT : 1))
  })
).pipe(
  Command.withDescription(
    "Print an access token from the Claude Code login, valid for at least --min-valid seconds, refreshing safely alongside Claude Code when needed (its locks; one refresh for any number of callers). For runtimes that would otherwise refresh the login themselves."
  )
)
