/**
 * The login the daemon polls with, read-only: whatever
 * `LoginDiscovery` finds (`CLAUDE_CODE_OAUTH_TOKEN`, a setup-token: inference
 * only; else the macOS Keychain; else the file), the same reader doctor uses.
 * The daemon never refreshes or writes credentials — that is the credential
 * writer's job.
 *
 * @since 0.1.0
 */
import { LoginDiscovery } from "@tollgate/claude-credentials"
import type { UsagePoller } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

/** A found login with a token to send; a blanked one (after a refused refresh) is none. */
const toLogin = (discovery: LoginDiscovery.Discovery): UsagePoller.Login | null =>
  discovery._tag === "Found" && Redacted.value(discovery.accessToken).length > 0
    ? { accessToken: discovery.accessToken, snapshot: discovery.snapshot }
    : null

/**
 * Reads the current login; a missing or unreadable store is "no login", never an error.
 *
 * @since 0.1.0
 */
export const read: Effect.Effect<UsagePoller.Login | null> = LoginDiscovery.discover.pipe(
  Effect.map(toLogin),
  Effect.orElseSucceed(() => null)
)

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
