/** What `tollgate refresh` does (its definition is in commands/refresh.ts). */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { ClaudeCredentials, StoreLocation } from "@tollgate/claude-credentials"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NOT_PERSISTED_EXIT, RefreshFailed } from "../RefreshFailed.js"
import * as RefreshState from "@tollgate/claude-credentials/RefreshState"

const when = (epochMs: number | null, now: number): string => {
  if (epochMs === null) return "no expiry recorded"
  const minutes = Math.round((epochMs - now) / 60_000)
  const at = new Date(epochMs).toISOString().replace(/:\d{2}\.\d{3}Z$/, "Z")
  return minutes >= 0
    ? `valid until ${at} (in ${minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`})`
    : `expired at ${at}`
}

export const refresh = (options: { readonly ifNeeded: boolean; readonly json: boolean }) =>
  Effect.gen(function* () {
    const state = yield* RefreshState.load
    const backoff = yield* Backoff.make(Backoff.defaultConfig, state.backoff)
    const location = yield* StoreLocation.fromConfig
    const result = yield* Effect.gen(function* () {
      const opened = yield* ClaudeCredentials.open(location)
      return { opened, outcome: yield* opened.refresher.refresh({ ifNeeded: options.ifNeeded }) }
    }).pipe(
      Effect.provideService(Backoff.Backoff, backoff),
      Effect.provide(
        OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(FetchHttpClient.layer))
      ),
      Effect.either
    )
    const now = yield* Clock.currentTimeMillis
    const where = location.file
    if (result._tag === "Right") {
      const { opened, outcome } = result.right
      const store =
        opened.resolved.chosen === "file" ? `file ${location.file}` : `Keychain "${location.keychainService}"`
      const words = {
        Refreshed: `Refreshed the Claude Code login in ${store}: ${when(outcome.expiresAt, now)}.`,
        Adopted: `Another process had already refreshed the login in ${store}; adopted it without a call: ${when(outcome.expiresAt, now)}.`,
        NotNeeded: `Nothing to do: the login in ${store} is ${when(outcome.expiresAt, now)}.`
      }[outcome._tag]
      yield* RefreshState.save({
        version: 1,
        backoff: yield* backoff.snapshot,
        last: { at: now, outcome: outcome._tag, message: words }
      })
      yield* Console.log(
        options.json
          ? JSON.stringify(
              {
                outcome: outcome._tag,
                backend: opened.resolved.chosen,
                backends: opened.resolved.present,
                why: opened.resolved.why,
                expiresAt: outcome.expiresAt,
                scopes: outcome.scopes,
                fingerprint: outcome.fingerprint,
                message: words
              },
              null,
              2
            )
          : words
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
    yield* options.json
      ? Console.log(JSON.stringify({ outcome: "Failed", error: tag, message: error.message, store: where }, null, 2))
      : Console.error(`tollgate refresh: ${error.message}`)
    return yield* Effect.fail(new RefreshFailed(tag === "RefreshNotPersisted" ? NOT_PERSISTED_EXIT : 1))
  })
