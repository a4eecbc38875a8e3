/**
 * One refresh of the Claude Code login as `tollgate refresh` and `tollgate token` both make it: the token endpoint's
 * backoff loaded from refresh.json, the store Claude Code uses opened, the attempt run with the OAuth client over
 * fetch, and what happened saved back with the backoff — so the next command, either one, honours the same
 * Retry-After and `tollgate status` can tell the last outcome.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { ClaudeCredentials, StoreLocation } from "@tollgate/claude-credentials"
import * as RefreshState from "@tollgate/claude-credentials/RefreshState"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NOT_PERSISTED_EXIT, RefreshFailed } from "./RefreshFailed.js"

/** What a recorded refresh ended in; a failure carries how the command exits. */
export type Recorded<A> =
  | {
      readonly _tag: "Done"
      readonly location: StoreLocation.Location
      readonly opened: ClaudeCredentials.Opened
      readonly outcome: A
      readonly message: string
      readonly now: number
    }
  | {
      readonly _tag: "Failed"
      readonly location: StoreLocation.Location
      readonly tag: string
      readonly message: string
      readonly exit: RefreshFailed
    }

/** Runs `attempt` on the opened store and records the outcome (described by `describe`) or the failure. */
export const run = <A extends { readonly _tag: string }, E extends { readonly message: string }>(
  attempt: (opened: ClaudeCredentials.Opened) => Effect.Effect<A, E, OAuthClient.OAuthClient | Backoff.Backoff>,
  describe: (outcome: A, opened: ClaudeCredentials.Opened, now: number) => string
) =>
  Effect.gen(function* () {
    const state = yield* RefreshState.load
    const backoff = yield* Backoff.make(Backoff.defaultConfig, state.backoff)
    const location = yield* StoreLocation.fromConfig
    const result = yield* Effect.gen(function* () {
      const opened = yield* ClaudeCredentials.open(location)
      return { opened, outcome: yield* attempt(opened) }
    }).pipe(
      Effect.provideService(Backoff.Backoff, backoff),
      Effect.provide(
        OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(FetchHttpClient.layer))
      ),
      Effect.either
    )
    const now = yield* Clock.currentTimeMillis
    const record = (outcome: string, message: string) =>
      Effect.flatMap(backoff.snapshot, (snapshot) =>
        RefreshState.save({ version: 1, backoff: snapshot, last: { at: now, outcome, message } })
      )
    if (result._tag === "Right") {
      const { opened, outcome } = result.right
      const message = describe(outcome, opened, now)
      yield* record(outcome._tag, message)
      return { _tag: "Done", location, opened, outcome, message, now } satisfies Recorded<A> as Recorded<A>
    }
    const error = result.left
    const tag = "_tag" in error ? String(error._tag) : "Error"
    yield* record(tag, error.message)
    const exit = new RefreshFailed(tag === "RefreshNotPersisted" ? NOT_PERSISTED_EXIT : 1)
    return { _tag: "Failed", location, tag, message: error.message, exit } satisfies Recorded<A> as Recorded<A>
  })
