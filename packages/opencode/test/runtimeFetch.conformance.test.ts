import { runtimeFetchSuite } from "@tollgate/conformance/vitest"
import * as AuthorizedFetch from "../src/AuthorizedFetch.js"

runtimeFetchSuite(
  "opencode plugin fetch",
  ({ sim, logins }) => ({
    fetch: AuthorizedFetch.make({
      accounts: logins.map((login) => ({
        type: "oauth" as const,
        access: login.accessToken,
        refresh: login.refreshToken,
        expires: login.expiresAt,
        scopes: login.scopes
      })),
      settings: { apiBaseUrl: sim.url, oauthBaseUrl: sim.url }
    })
  }),
  { singleFlight: true, retryOn401: true, refreshBackoff: true, retryAfter: true, sse: true, multiAccount: true }
)
