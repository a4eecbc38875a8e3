/**
 * "Use my Claude Code login": opencode signs requests with the login Claude
 * Code already holds, read from Claude Code's own store on every request and
 * refreshed only through Claude Code's locks. `auth.json` holds a marker
 * (`refresh: "claude-code-shared"`) plus the current access token — never
 * Claude Code's single-use refresh token, because two holders of one refresh
 * token is exactly what logs users out.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as ClaudeCredentials from "@tollgate/claude-credentials/ClaudeCredentials"
import * as StoreLocation from "@tollgate/claude-credentials/StoreLocation"
import * as Backoff from "@tollgate/core/Backoff"
import * as OAuthClient from "@tollgate/core/OAuthClient"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { readRecord } from "./internal/sharedLogin.js"

/** The `refresh` value in `auth.json` that means "shared with Claude Code". @since 0.1.0 */
export const MARKER = "claude-code-shared"

/** The login method's label (`opencode providers login -m`). @since 0.1.0 */
export const LABEL = "Use my Claude Code login"

/** Where Claude Code keeps its login in this environment (respects `CLAUDE_CONFIG_DIR`). @since 0.1.0 */
export const location = (): StoreLocation.Location => Effect.runSync(StoreLocation.fromConfig)

/**
 * What opencode stores for the shared login: the marker refresh value and the
 * current access token, or `failed`.
 *
 * @since 0.1.0
 */
export type Result =
  | { readonly type: "success"; readonly refresh: string; readonly access: string; readonly expires: number }
  | { readonly type: "failed" }

/**
 * Reads the Claude Code login (no network, no refresh) and answers with the
 * marker entry for `auth.json`.
 *
 * @since 0.1.0
 */
export const login = (where: StoreLocation.Location = location()): Promise<Result> =>
  Effect.runPromise(
    ClaudeCredentials.open(where).pipe(
      Effect.flatMap(readRecord),
      Effect.map(
        (record): Result =>
          record === null || record.accessToken === "" || !record.refreshToken
            ? { type: "failed" }
            : {
                type: "success",
                refresh: MARKER,
                access: record.accessToken,
                expires: typeof record.expiresAt === "number" ? record.expiresAt : Number.MAX_SAFE_INTEGER
              }
      ),
      Effect.provide(
        Layer.merge(
          OAuthClient.layer.pipe(Layer.provide(Layer.merge(OAuthConfig.layer(), FetchHttpClient.layer))),
          Backoff.layer()
        )
      ),
      Effect.orElseSucceed((): Result => ({ type: "failed" }))
    )
  )

/**
 * The opencode auth method: `method: "auto"`, so opencode asks for nothing
 * and calls `callback()` straight away.
 *
 * @since 0.1.0
 */
export const authorize = async () => {
  const where = (() => {
    try {
      return location()
    } catch {
      return null
    }
  })()
  return {
    url: "",
    instructions: `Using the Claude Code login in ${where?.file ?? "~/.claude/.credentials.json"}; it stays there and is refreshed under Claude Code's own lock.`,
    method: "auto" as const,
    callback: (): Promise<Result> => (where === null ? Promise.resolve({ type: "failed" as const }) : login(where))
  }
}
