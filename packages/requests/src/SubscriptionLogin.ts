/**
 * The paste-the-code subscription login (PKCE S256) as an opencode auth
 * method: `authorize()` gives the URL to open, `callback(code#state)` checks
 * the state and exchanges the code through core's OAuth client.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as OAuthClient from "@tollgate/core/OAuthClient"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Scopes from "@tollgate/core/Scopes"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

/** Where subscribers log in. @since 0.1.0 */
export const AUTHORIZE_URL = "https://claude.com/cai/oauth/authorize"

/** The manual redirect that shows `code#state` for pasting. @since 0.1.0 */
export const REDIRECT_URI = "https://platform.claude.com/oauth/code/callback"

/** What opencode stores on success. @since 0.1.0 */
export type Outcome =
  | { readonly type: "success"; readonly refresh: string; readonly access: string; readonly expires: number }
  | { readonly type: "failed" }

/**
 * What opencode's auth method needs: the URL to open, the instructions shown, and
 * the callback that takes the pasted `code#state`.
 *
 * @since 0.1.0
 */
export interface Authorization {
  readonly url: string
  readonly instructions: string
  readonly method: "code"
  readonly callback: (code: string) => Promise<Outcome>
}

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")

const random = (size: number): string => base64url(crypto.getRandomValues(new Uint8Array(size)))

const challengeOf = async (verifier: string): Promise<string> =>
  base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))))

/** Where the login is sent: core's settings for the token endpoint, and the authorize URL. @since 0.1.0 */
export interface Options {
  readonly settings: OAuthConfig.Settings
  /** Default {@link AUTHORIZE_URL}. */
  readonly authorizeUrl?: string | undefined
}

/**
 * Starts one login. The state is random and separate from the verifier, so
 * the pasted text reveals nothing that completes the exchange.
 *
 * @since 0.1.0
 */
export const authorize = async (options: Options): Promise<Authorization> => {
  const verifier = random(32)
  const state = random(32)
  const url = new URL(options.authorizeUrl ?? AUTHORIZE_URL)
  url.searchParams.set("code", "true")
  url.searchParams.set("client_id", options.settings.clientId)
  url.searchParams.set("response_type", "code")
  url.searchParams.set("redirect_uri", REDIRECT_URI)
  url.searchParams.set("scope", Scopes.login.join(" "))
  url.searchParams.set("code_challenge", await challengeOf(verifier))
  url.searchParams.set("code_challenge_method", "S256")
  url.searchParams.set("state", state)
  return {
    url: url.toString(),
    instructions: "Open the link, approve, and paste the code shown (code#state):",
    method: "code",
    callback: async (pasted) => {
      const [code, returned] = pasted.trim().split("#")
      // opencode only prints "Failed to authorize": say why on stderr, which its login command shows.
      const why = (message: string): Outcome => {
        process.stderr.write(`tollgate: ${message}\n`)
        return { type: "failed" }
      }
      if (!code || returned !== state) {
        return why(
          "the pasted code does not belong to this login attempt (expected code#state from the page you just opened); start the login again."
        )
      }
      const exchange = Effect.flatMap(OAuthClient.OAuthClient, (client) =>
        client.exchangeCode({
          code: Redacted.make(code),
          verifier: Redacted.make(verifier),
          state,
          redirectUri: REDIRECT_URI
        })
      ).pipe(
        Effect.provide(
          OAuthClient.layer.pipe(Layer.provide(Layer.merge(OAuthConfig.layer(options.settings), FetchHttpClient.layer)))
        ),
        Effect.map(
          (grant): Outcome =>
            grant.refreshToken === null
              ? why("the token endpoint issued no refresh token, so this login could not be kept; try again.")
              : {
                  type: "success",
                  access: Redacted.value(grant.accessToken),
                  refresh: Redacted.value(grant.refreshToken),
                  expires: grant.expiresAt
                }
        ),
        Effect.catchAll((verdict) => Effect.succeed(why(`the code exchange failed: ${verdict.message}`)))
      )
      return Effect.runPromise(exchange)
    }
  }
}
