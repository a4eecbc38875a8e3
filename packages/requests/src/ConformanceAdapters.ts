/**
 * The plugin's request path as the runtime-fetch suite drives it, and its row
 * in the `tollgate conformance` matrix.
 *
 * @since 0.1.0
 */
import type { Matrix, RuntimeFetchSuite, Suite } from "@tollgate/conformance"
import * as AuthorizedFetch from "./AuthorizedFetch.js"

/**
 * The runtime-fetch suite's factory: the plugin's fetch with the case's logins,
 * pointed at the case's simulator.
 *
 * @since 0.1.0
 */
export const fetchAdapter: RuntimeFetchSuite.RuntimeFetchFactory = ({ sim, logins }) => ({
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
})

/**
 * What the plugin's fetch claims to do, so the suite runs every case that applies;
 * the gateway reuses it.
 *
 * @since 0.1.0
 */
export const capabilities = {
  singleFlight: true,
  retryOn401: true,
  refreshBackoff: true,
  retryAfter: true,
  sse: true,
  multiAccount: true
} as const satisfies Suite.Capabilities<RuntimeFetchSuite.Capability>

/** The plugin's row in the `tollgate conformance` matrix. @since 0.1.0 */
export const registrations: ReadonlyArray<Matrix.Registration> = [
  { adapter: "opencode plugin fetch", suite: "runtime-fetch", factory: fetchAdapter, capabilities }
]
