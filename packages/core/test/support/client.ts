// Runs one corpus case through the real OAuth client (or, for messages, the
// same exchange the client uses) against the scripted loopback server.
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { NodeHttpClient } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Classification from "../../src/Classification.js"
const { Ok } = Classification
import * as Credential from "../../src/Credential.js"
import { exchange } from "../../src/internal/exchange.js"
import * as OAuthClient from "../../src/OAuthClient.js"
import * as OAuthConfig from "../../src/OAuthConfig.js"
import * as Scopes from "../../src/Scopes.js"
import type { Case } from "./corpus.js"

export const ACCESS = "sk-ant-oat01-corpus-access-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
export const REFRESH = "sk-ant-ort01-corpus-refresh-token-BBBBBBBBBBBBBBBBBBBBBBBBBBBB"

export const settingsFor = (url: string, overrides: Partial<OAuthConfig.Settings> = {}) =>
  OAuthConfig.make({ apiBaseUrl: url, oauthBaseUrl: url, ...overrides })

/** The verdict for one case: a success is `Ok`, a failure its classification. */
export const runCase = (c: Case, settings: OAuthConfig.Settings): Effect.Effect<Classification.Classification> => {
  const snapshot: Credential.Snapshot | undefined = c.credential
    ? {
        scopes: c.credential.scopes ? Scopes.known(c.credential.scopes) : Scopes.unknown,
        expiresAt: c.credential.expiresAt ?? null,
        fingerprint: Credential.fingerprint(ACCESS)
      }
    : undefined
  const program = Effect.gen(function* () {
    const client = yield* OAuthClient.OAuthClient
    const token = Redacted.make(ACCESS)
    switch (c.endpoint) {
      case "token":
        return yield* client
          .refresh({ refreshToken: Redacted.make(REFRESH), scopes: ["user:inference"] })
          .pipe(Effect.as(null))
      case "usage":
        return yield* client.usage({ accessToken: token, credential: snapshot }).pipe(Effect.as(null))
      case "profile":
        return yield* client.profile({ accessToken: token, credential: snapshot }).pipe(Effect.as(null))
      case "messages": {
        const request = HttpClientRequest.post(`${settings.apiBaseUrl}/v1/messages?beta=true`).pipe(
          HttpClientRequest.bearerToken(ACCESS),
          HttpClientRequest.bodyUnsafeJson({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [] })
        )
        return (yield* exchange("messages", request, settings, c.credential)).classification
      }
    }
  })
  return program.pipe(
    Effect.map((verdict) => verdict ?? okFor(c)),
    Effect.catchAll((failure) => Effect.succeed(failure as Classification.Classification)),
    Effect.provide(OAuthClient.layer),
    Effect.provideService(OAuthConfig.OAuthConfig, settings),
    Effect.provide(NodeHttpClient.layerUndici)
  )
}

// The client returns decoded bodies on success; the verdict behind them was Ok.
const okFor = (c: Case): Classification.Classification =>
  new Ok({ endpoint: c.endpoint, status: 200, action: "none", retryable: false, retryAfterMs: null, requestId: null })
