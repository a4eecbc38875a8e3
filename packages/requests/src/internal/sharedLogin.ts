/**
 * A login shared with Claude Code: the tokens live in Claude Code's own store
 * and never in opencode's `auth.json`. Every request reads the store; a
 * refresh goes through `@tollgate/claude-credentials` (Claude Code's locks,
 * whole-document write, compare-and-swap), so Claude Code and opencode never
 * hold two copies of one single-use refresh token.
 */
import * as ClaudeCredentials from "@tollgate/claude-credentials/ClaudeCredentials"
import * as C from "@tollgate/core/Classification"
import * as Credential from "@tollgate/core/Credential"
import * as RefreshCoordinator from "@tollgate/core/RefreshCoordinator"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Account, ClaudeCodeLogin, Held, Requirements, Tokens } from "./account.js"

const common = { endpoint: "token" as const, status: null, retryAfterMs: null, requestId: null }

/** Any failure of the shared store or its refresher, as a classification the fetch understands. */
export const toFailure = (error: unknown): C.Failure => {
  if (C.isClassification(error) && error._tag !== "Ok") return error
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : ""
  if (tag === "NoLogin" || tag === "LoginDead" || tag === "NotASubscriptionLogin") {
    // Only a new `claude` login helps; never blank or touch the store ourselves.
    return new C.RefreshRejected({ ...common, action: "reauthenticate", retryable: false, reason: "other" })
  }
  return new C.Transport({ ...common, action: "backoff", retryable: true, reason: "other" })
}

/** Reads the Claude Code login from the store; `null` when there is none. */
export const readRecord = (opened: ClaudeCredentials.Opened) =>
  opened.resolved.store.read.pipe(
    Effect.map((document) => (Option.isSome(document) ? (document.value.claudeAiOauth ?? null) : null))
  )

export const make = (
  index: number,
  login: ClaudeCodeLogin,
  persist: (tokens: Tokens, index: number) => Promise<unknown> | unknown
): Effect.Effect<Account> =>
  Effect.gen(function* () {
    let opened: ClaudeCredentials.Opened | null = null
    const open: Effect.Effect<ClaudeCredentials.Opened, C.Failure, Requirements> = Effect.suspend(() =>
      opened !== null
        ? Effect.succeed(opened)
        : ClaudeCredentials.open(login.location).pipe(
            Effect.tap((o) => {
              opened = o
            }),
            Effect.mapError(toFailure)
          )
    )
    let held: Held | null = null
    const load: Effect.Effect<Held, C.Failure, Requirements> = Effect.gen(function* () {
      const record = yield* open.pipe(Effect.flatMap(readRecord), Effect.mapError(toFailure))
      if (record === null || record.accessToken === "") return yield* Effect.fail(toFailure({ _tag: "NoLogin" }))
      const next: Held = {
        accessToken: Redacted.make(record.accessToken),
        // Never held here: the refresh token is Claude Code's, spent only by its refresher.
        refreshToken: null,
        expiresAt: typeof record.expiresAt === "number" ? record.expiresAt : null,
        scopes: Array.isArray(record.scopes) ? record.scopes : null
      }
      held = next
      return next
    })

    const refresh = (current: Held): Effect.Effect<Held, C.Failure, Requirements> =>
      Effect.gen(function* () {
        const o = yield* open
        const now = Date.now()
        // Expired: Claude Code's own rule, re-checked under its lock. Not expired but rejected (401): force.
        const ifNeeded = Credential.isExpired(current.expiresAt, now, Credential.CLAUDE_CODE_EXPIRY_SKEW_MS)
        const outcome = yield* o.refresher.refresh({ ifNeeded }).pipe(Effect.mapError(toFailure))
        const next = yield* load
        if (outcome._tag === "Refreshed") {
          const tokens: Tokens = {
            access: Redacted.value(next.accessToken),
            refresh: null,
            expires: next.expiresAt ?? 0
          }
          yield* Effect.tryPromise(async () => persist(tokens, index)).pipe(Effect.ignore)
        }
        return next
      })

    const coordinator = yield* RefreshCoordinator.make<Held, C.Failure, Requirements>({ load, refresh })
    return { index, login, coordinator, current: () => held, skipUntil: 0, failure: null }
  })
