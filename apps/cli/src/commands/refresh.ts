/**
 * `tollgate refresh [--if-needed] [--json]`: refreshes the local Claude Code
 * login safely alongside Claude Code (its locks, its file format), and says
 * what happened.
 */
import { Command, Options } from "@effect/cli"
import { NodeHttpClient } from "@effect/platform-node"
import { ClaudeCredentials, StoreLocation } from "@tollgate/claude-credentials"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RefreshState from "../RefreshState.js"

const ifNeeded = Options.boolean("if-needed").pipe(
  Options.withDescription("Refresh only when the token expires within five minutes (Claude Code's own rule).")
)
const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object."))

/** Exit status when a refresh succeeded upstream but could not be saved: loud on purpose. */
export const NOT_PERSISTED_EXIT = 3

/** A failed refresh, already reported; carries the exit status. */
export class RefreshFailed extends Error {
  constructor(readonly exitCode: number) {
    super("refresh failed")
  }
}

const when = (epochMs: number | null, now: number): string => {
  if (epochMs === null) return "no expiry recorded"
  const minutes = Math.round((epochMs - now) / 60_000)
  const at = new Date(epochMs).toISOString().replace(/:\d{2}\.\d{3}Z$/, "Z")
  return minutes >= 0 ? `valid until ${at} (in ${minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`})` : `expired at ${at}`
}

/** The `refresh` subcommand. */
export const refresh = Command.make("refresh", { ifNeeded, json }, (options) =>
  Effect.gen(function* () {
    const state = yield* RefreshState.load
    const backoff = yield* Backoff.make(Backoff.defaultConfig, state.backoff)
    const location = yield* StoreLocation.fromConfig
    const result = yield* Effect.gen(function* () {
      const opened = yield* ClaudeCredentials.open(location)
      return { opened, outcome: yield* opened.refresher.refresh({ ifNeeded: options.ifNeeded }) }
    }).pipe(
      Effect.provideService(Backoff.Backoff, backoff),
      Effect.provide(OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(NodeHttpClient.layerUndici))),
      Effect.either
    )
    const now = yield* Clock.currentTimeMillis
    const where = location.file
    if (result._tag === "Right") {
      const { opened, outcome } = result.right
      const store = opened.resolved.chosen === "file" ? `file ${location.file}` : `Keychain "${location.keychainService}"`
      const words = {
        Refreshed: `Refreshed the Claude Code login in ${store}: ${when(outcome.expiresAt, now)}.`,
        Adopted: `Another process had already refreshed the login in ${store}; adopted it without a call: ${when(outcome.expiresAt, now)}.`,
        NotNeeded: `Nothing to do: the login in ${store} is ${when(outcome.expiresAt, now)}.`
      }[outcome._tag]
      yield* RefreshState.save({ version: 1, backoff: yield* backoff.snapshot, last: { at: now, outcome: outcome._tag, message: words } })
      yield* Console.log(
        options.json
          ? JSON.stringify({ outcome: outcome._tag, backend: opened.resolved.chosen, backends: opened.resolved.present, why: opened.resolved.why, expiresAt: outcome.expiresAt, scopes: outcome.scopes, fingerprint: outcome.fingerprint, message: words }, null, 2)
          : words
      )
      return
    }
    const error = result.left
    const tag = "_tag" in error ? String(error._tag) : "Error"
    yield* RefreshState.save({ version: 1, backoff: yield* backoff.snapshot, last: { at: now, outcome: tag, message: error.message } })
    yield* options.json
      ? Console.log(JSON.stringify({ outcome: "Failed", error: tag, message: error.message, store: where }, null, 2))
      : Console.error(`tollgate refresh: ${error.message}`)
    return yield* Effect.fail(new RefreshFailed(tag === "RefreshNotPersisted" ? NOT_PERSISTED_EXIT : 1))
  })
).pipe(
  Command.withDescription(
    "Refresh the local Claude Code login safely alongside Claude Code (its own locks; every field kept; atomic write) and say what happened: refreshed, adopted, not needed, or why not."
  )
)

