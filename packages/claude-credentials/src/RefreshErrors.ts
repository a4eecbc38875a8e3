/**
 * Why a refresh of the Claude Code login did not happen, or did not stick.
 * Every message is one plain sentence and never holds a token.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** The store holds no login we can refresh. @since 0.1.0 */
export class NoLogin extends Schema.TaggedError<NoLogin>("@tollgate/claude-credentials/NoLogin")("NoLogin", {
  where: Schema.String,
  reason: Schema.Literal("empty", "no_record", "no_refresh_token")
}) {
  override get message(): string {
    return {
      empty: `No Claude Code login in ${this.where}; run \`claude\` and log in.`,
      no_record: `${this.where} holds no claudeAiOauth login; run \`claude\` and log in.`,
      no_refresh_token: `The login in ${this.where} has no refresh token (a setup-token?); it cannot be refreshed, only replaced by logging in again.`
    }[this.reason]
  }
}

/**
 * The stored login is not one Claude Code treats as a subscription login
 * (no `user:inference` scope), so refreshing or writing it would only make
 * things worse.
 *
 * @since 0.1.0
 */
export class NotASubscriptionLogin extends Schema.TaggedError<NotASubscriptionLogin>(
  "@tollgate/claude-credentials/NotASubscriptionLogin"
)("NotASubscriptionLogin", { where: Schema.String }) {
  override get message(): string {
    return `The login in ${this.where} lacks the user:inference scope, so Claude Code does not treat it as logged in; log in again with \`claude\`.`
  }
}

/**
 * The token endpoint said the refresh token is dead, and the store still
 * holds that same token: nobody else refreshed. The store is left as it is —
 * never blanked — and the user must log in again.
 *
 * @since 0.1.0
 */
export class LoginDead extends Schema.TaggedError<LoginDead>("@tollgate/claude-credentials/LoginDead")("LoginDead", {
  where: Schema.String
}) {
  override get message(): string {
    return `The refresh token in ${this.where} is no longer valid and no other process has replaced it; log in again with \`claude\` (the store was left untouched).`
  }
}

/** The token endpoint is in backoff for this refresh token. @since 0.1.0 */
export class RefreshBackedOff extends Schema.TaggedError<RefreshBackedOff>(
  "@tollgate/claude-credentials/RefreshBackedOff"
)("RefreshBackedOff", {
  verdict: Schema.NullOr(Schema.String),
  /** Epoch ms; `null` while blocked until the login changes. */
  until: Schema.NullOr(Schema.Number)
}) {
  override get message(): string {
    const why = this.verdict ? ` after ${this.verdict}` : ""
    return this.until === null
      ? `Refreshing is stopped${why} until the login changes; nothing was sent.`
      : `Refreshing is backed off${why} until ${new Date(this.until).toISOString()}; nothing was sent.`
  }
}

/**
 * The refresh succeeded — the old refresh token is spent — but the new login
 * could not be stored. Fails closed: the spent token is never replayed.
 *
 * @since 0.1.0
 */
export class RefreshNotPersisted extends Schema.TaggedError<RefreshNotPersisted>(
  "@tollgate/claude-credentials/RefreshNotPersisted"
)("RefreshNotPersisted", {
  where: Schema.String,
  reason: Schema.Literal("write_failed", "store_changed", "response_lacks_inference"),
  /** What went wrong underneath, already safe to print. */
  cause: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const what = {
      write_failed: "but the new login could not be written",
      store_changed:
        "but another process changed the store meanwhile without taking Claude Code's lock, so the new login was not written over it",
      response_lacks_inference:
        "but the new token lacks the user:inference scope Claude Code needs, so it was not written"
    }[this.reason]
    return `REFRESH NOT SAVED: the token endpoint issued a new login ${what} (${this.where}). The old refresh token is now spent; if Claude Code says it is logged out, run \`claude\` and log in again.${this.cause ? ` Cause: ${this.cause}` : ""}`
  }
}
