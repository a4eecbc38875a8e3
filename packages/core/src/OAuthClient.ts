/**
 * The OAuth client: refresh, code exchange, usage and profile on
 * `@effect/platform`'s `HttpClient`. Every failure is a classification from
 * the classifier, with the endpoint it came from.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { classify } from "./Classify.js"
import * as C from "./Classification.js"
import type * as Credential from "./Credential.js"
import type { Endpoint } from "./Endpoint.js"
import { type Exchange, exchange, readCapped } from "./internal/exchange.js"
import { refusal } from "./internal/refusal.js"
import { decodeUtf8 } from "./internal/utf8.js"
import { OAuthConfig, type Settings } from "./OAuthConfig.js"
import * as Scopes from "./Scopes.js"
import * as Signing from "./Signing.js"
import * as Usage from "./Usage.js"

const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** The token endpoint's success body. @since 0.1.0 */
export const TokenResponse = Schema.Struct(
  {
    access_token: Schema.String.pipe(Schema.minLength(1)),
    refresh_token: Schema.optional(Schema.NullOr(Schema.String)),
    expires_in: Schema.Number,
    scope: Schema.optional(Schema.NullOr(Schema.String)),
    refresh_token_expires_in: Schema.optional(Schema.NullOr(Schema.Number)),
    account: Schema.optional(
      Schema.NullOr(
        Schema.Struct({ uuid: Schema.optional(Schema.String), email_address: Schema.optional(Schema.String) }, Rest)
      )
    ),
    organization: Schema.optional(Schema.NullOr(Schema.Struct({ uuid: Schema.optional(Schema.String) }, Rest)))
  },
  Rest
)

/**
 * A fresh token set. `refreshToken` is `null` when the response omitted it:
 * the old refresh token then stays valid and must be kept.
 *
 * @since 0.1.0
 */
export interface TokenGrant {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string> | null
  /** Epoch milliseconds. */
  readonly expiresAt: number
  /** From the response's `scope`; `null` when it sent none. */
  readonly scopes: ReadonlyArray<string> | null
  readonly refreshTokenExpiresAt: number | null
  readonly accountUuid: string | null
  readonly emailAddress: string | null
  readonly organizationUuid: string | null
}

/** The profile endpoint's body, with the subscription it implies. @since 0.1.0 */
export interface Profile {
  readonly raw: Readonly<Record<string, unknown>>
  readonly subscriptionType: string | null
  readonly rateLimitTier: string | null
}

/** What a refresh sends: the single-use refresh token and the scopes to ask for again. @since 0.1.0 */
export interface RefreshRequest {
  readonly refreshToken: Redacted.Redacted<string>
  /** The stored scopes; `null` sends no `scope` field. */
  readonly scopes: ReadonlyArray<string> | null
}

/**
 * What a login's code exchange sends: the code and PKCE verifier from the browser
 * step, with its state and redirect URI.
 *
 * @since 0.1.0
 */
export interface CodeExchangeRequest {
  readonly code: Redacted.Redacted<string>
  readonly verifier: Redacted.Redacted<string>
  readonly state: string
  readonly redirectUri: string
}

/**
 * A usage or profile call: the access token to send, and what is known about it so
 * a doomed call is refused locally.
 *
 * @since 0.1.0
 */
export interface BearerRequest {
  readonly accessToken: Redacted.Redacted<string>
  /** What is known about the token; lets the client refuse doomed calls. */
  readonly credential?: Credential.Snapshot | undefined
}

/**
 * The OAuth client service: refresh, code exchange, usage and profile, each
 * failing with the classifier's verdict. Build it with `layer` from an
 * `OAuthConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 */
export class OAuthClient extends Context.Tag("@tollgate/core/OAuthClient")<
  OAuthClient,
  {
    readonly settings: Settings
    readonly refresh: (request: RefreshRequest) => Effect.Effect<TokenGrant, C.Failure>
    /**
     * Runs the code that handles a refresh's answer (reading a body,
     * classifying it, decoding the grant) on a made-up answer, sending
     * nothing. A fresh process that calls it before spending a refresh token
     * pays for compiling that code before the request instead of between the
     * answer and persisting it, where a SIGKILL loses the login.
     */
    readonly rehearseRefresh: Effect.Effect<void>
    readonly exchangeCode: (request: CodeExchangeRequest) => Effect.Effect<TokenGrant, C.Failure>
    /** Refuses without a call when the token is known to lack `user:profile` or is past `expiresAt`. */
    readonly usage: (request: BearerRequest) => Effect.Effect<Usage.Report, C.Failure>
    readonly profile: (request: BearerRequest) => Effect.Effect<Profile, C.Failure>
  }
>() {}

const fail = (c: C.Classification): Effect.Effect<never, C.Failure> =>
  Effect.fail(c._tag === "Ok" ? new C.Decode({ ...c, action: "backoff", retryable: true }) : c)

const decodeOk =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (x: Exchange): Effect.Effect<A, C.Failure> => {
    if (x.classification._tag !== "Ok") return fail(x.classification)
    const ok = x.classification
    return Effect.try(() => JSON.parse(decodeUtf8(x.body)) as unknown).pipe(
      Effect.flatMap(Schema.decodeUnknown(schema)),
      Effect.mapError(() => new C.Decode({ ...ok, action: "backoff", retryable: true }))
    )
  }

const SUBSCRIPTIONS: Record<string, string> = {
  claude_max: "max",
  claude_pro: "pro",
  claude_team: "team",
  claude_enterprise: "enterprise"
}

/**
 * Builds the client from `OAuthConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 */
export const make = Effect.gen(function* () {
  const settings = yield* OAuthConfig
  const http = yield* HttpClient.HttpClient
  const run = (endpoint: Endpoint, request: HttpClientRequest.HttpClientRequest, credential?: Credential.Snapshot) =>
    exchange(endpoint, request, settings, credential).pipe(Effect.provideService(HttpClient.HttpClient, http))

  const tokenCall = (body: Record<string, unknown>) =>
    HttpClientRequest.post(`${settings.oauthBaseUrl}/v1/oauth/token`).pipe(
      HttpClientRequest.setHeaders({ "user-agent": settings.userAgent.token, accept: "application/json" }),
      HttpClientRequest.bodyUnsafeJson(body)
    )

  const grant = (x: Exchange) =>
    Effect.gen(function* () {
      const body = yield* decodeOk(TokenResponse)(x)
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      return {
        accessToken: Redacted.make(body.access_token),
        refreshToken: body.refresh_token ? Redacted.make(body.refresh_token) : null,
        expiresAt: Math.round(now + body.expires_in * 1000),
        scopes: typeof body.scope === "string" ? Scopes.parse(body.scope) : null,
        refreshTokenExpiresAt:
          typeof body.refresh_token_expires_in === "number"
            ? Math.round(now + body.refresh_token_expires_in * 1000)
            : null,
        accountUuid: body.account?.uuid ?? null,
        emailAddress: body.account?.email_address ?? null,
        organizationUuid: body.organization?.uuid ?? null
      } satisfies TokenGrant
    })

  const bearer = (endpoint: "usage" | "profile", path: string, request: BearerRequest) =>
    HttpClientRequest.get(`${settings.apiBaseUrl}${path}`).pipe(
      HttpClientRequest.setHeaders({
        ...Signing.oauthHeaders(Redacted.value(request.accessToken), settings.oauthBeta),
        "user-agent": settings.userAgent[endpoint],
        accept: "application/json"
      })
    )

  const guarded = <A>(
    endpoint: "usage" | "profile",
    request: BearerRequest,
    call: Effect.Effect<A, C.Failure>
  ): Effect.Effect<A, C.Failure> =>
    Effect.clockWith((clock) => clock.currentTimeMillis).pipe(
      Effect.flatMap((now) => {
        const refused = refusal(endpoint, endpoint === "usage" ? "usage" : "profile", now, request.credential)
        return refused ? Effect.fail(refused) : call
      })
    )

  // A made-up successful refresh answer, never sent anywhere.
  const rehearsalBody = new TextEncoder().encode(
    JSON.stringify({
      access_token: "rehearsal",
      refresh_token: "rehearsal",
      expires_in: 28_800,
      scope: "user:inference"
    })
  )
  const rehearseRefresh = Effect.flatMap(readCapped(Stream.make(rehearsalBody), settings.maxBodyBytes), (body) => {
    const headers = { "content-type": "application/json" }
    return grant({
      status: 200,
      headers,
      body,
      classification: classify({ endpoint: "token", status: 200, headers, body, now: 0 })
    })
  }).pipe(Effect.ignore)

  return OAuthClient.of({
    settings,
    rehearseRefresh,
    refresh: (request) =>
      run(
        "token",
        tokenCall({
          grant_type: "refresh_token",
          refresh_token: Redacted.value(request.refreshToken),
          client_id: settings.clientId,
          ...(request.scopes ? { scope: Scopes.forRefresh(request.scopes).join(" ") } : {})
        })
      ).pipe(Effect.flatMap(grant)),
    exchangeCode: (request) =>
      run(
        "token",
        tokenCall({
          grant_type: "authorization_code",
          code: Redacted.value(request.code),
          state: request.state,
          client_id: settings.clientId,
          redirect_uri: request.redirectUri,
          code_verifier: Redacted.value(request.verifier)
        })
      ).pipe(Effect.flatMap(grant)),
    usage: (request) =>
      guarded(
        "usage",
        request,
        run("usage", bearer("usage", "/api/oauth/usage", request), request.credential).pipe(
          Effect.flatMap(decodeOk(Usage.Report))
        )
      ),
    profile: (request) =>
      guarded(
        "profile",
        request,
        run("profile", bearer("profile", "/api/oauth/profile", request), request.credential).pipe(
          Effect.flatMap(decodeOk(Schema.Record({ key: Schema.String, value: Schema.Unknown }))),
          Effect.map((raw) => {
            const org = (raw["organization"] ?? {}) as Record<string, unknown>
            const type = typeof org["organization_type"] === "string" ? org["organization_type"] : ""
            return {
              raw,
              subscriptionType: SUBSCRIPTIONS[type] ?? null,
              rateLimitTier: typeof org["rate_limit_tier"] === "string" ? org["rate_limit_tier"] : null
            } satisfies Profile
          })
        )
      )
  })
})

/** The client, needing `OAuthConfig` and `HttpClient`. @since 0.1.0 */
export const layer: Layer.Layer<OAuthClient, never, OAuthConfig | HttpClient.HttpClient> = Layer.effect(
  OAuthClient,
  make
)
