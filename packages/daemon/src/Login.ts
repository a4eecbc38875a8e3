/**
 * The login the daemon polls with, read-only: `CLAUDE_CODE_OAUTH_TOKEN`
 * (a setup-token: inference only), else Claude Code's store. The daemon never
 * refreshes or writes credentials — that is the credential writer's job.
 *
 * @since 0.1.0
 */
import { StoreLocation, Stores } from "@tollgate/claude-credentials"
import { Credential, Scopes, type UsagePoller } from "@tollgate/core"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

const fromRecord = (record: Credential.OAuthRecord): UsagePoller.Login | null =>
  record.accessToken.length === 0
    ? null
    : { accessToken: Redacted.make(record.accessToken), snapshot: Credential.snapshot(record) }

/**
 * Reads the current login; a missing or unreadable store is "no login", never an error.
 *
 * @since 0.1.0
 */
export const read = Effect.gen(function* () {
  const env = yield* Config.option(Config.redacted("CLAUDE_CODE_OAUTH_TOKEN")).pipe(
    Effect.orElseSucceed(() => Option.none())
  )
  if (Option.isSome(env) && Redacted.value(env.value).trim() !== "") {
    const token = Redacted.value(env.value).trim()
    return {
      accessToken: Redacted.make(token),
      snapshot: { scopes: Scopes.known(Scopes.setupToken), expiresAt: null, fingerprint: Credential.fingerprint(token) }
    } satisfies UsagePoller.Login
  }
  const resolved = yield* Stores.detect(yield* StoreLocation.fromConfig)
  const document = yield* resolved.store.read
  return Option.isSome(document) && document.value.claudeAiOauth ? fromRecord(document.value.claudeAiOauth) : null
}).pipe(Effect.orElseSucceed(() => null))

/**
 * `read`, remembered for `ttlMs` (the statusline asks every few hundred ms;
 * on macOS each read runs the `security` tool).
 *
 * @since 0.1.0
 */
export const cached = (ttlMs = 5_000) =>
  Effect.gen(function* () {
    let last: { at: number; login: UsagePoller.Login | null } | null = null
    return Effect.gen(function* () {
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      if (last !== null && now - last.at < ttlMs && now >= last.at) return last.login
      const login = yield* read
      last = { at: now, login }
      return login
    })
  })
