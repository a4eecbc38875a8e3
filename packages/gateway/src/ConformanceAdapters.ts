/**
 * The gateway as the runtime-fetch suite drives it: a real gateway on
 * 127.0.0.1 in front of the case's simulator, the case's logins as its
 * accounts, and the suite's requests sent to it with the gateway key — its
 * row in the `tollgate conformance` matrix.
 *
 * @since 0.1.0
 */
import type { Matrix, RuntimeFetchSuite } from "@tollgate/conformance"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as RequestPathAdapters from "@tollgate/requests/conformance"
import * as Gateway from "./Gateway.js"
import * as GatewayKey from "./GatewayKey.js"

/**
 * The runtime-fetch suite's factory: starts a real gateway in front of the case's
 * simulator and sends the suite's requests through it with the gateway key.
 *
 * @since 0.1.0
 */
export const fetchAdapter: RuntimeFetchSuite.RuntimeFetchFactory = async ({ sim, logins }) => {
  const key = GatewayKey.generate()
  const gateway = await Gateway.listen({
    accounts: logins.map((login) => ({
      type: "oauth" as const,
      access: login.accessToken,
      refresh: login.refreshToken,
      expires: login.expiresAt,
      scopes: login.scopes
    })),
    key,
    settings: OAuthConfig.make({ apiBaseUrl: sim.url, oauthBaseUrl: sim.url }),
    port: 0
  })
  // The case owns the simulator; the gateway goes with it.
  void sim.closed.then(() => gateway.close(0))
  return {
    fetch: (input, init) => {
      const headers = new Headers(init.headers)
      headers.set("x-api-key", key)
      return fetch(input.replace(sim.url, gateway.url), { ...init, headers })
    }
  }
}

/** The opencode plugin's request path serves the gateway, so it can do what that path can. @since 0.1.0 */
export const capabilities = RequestPathAdapters.capabilities

/** The gateway's row in the `tollgate conformance` matrix. @since 0.1.0 */
export const registrations: ReadonlyArray<Matrix.Registration> = [
  { adapter: "gateway (HTTP, gateway key)", suite: "runtime-fetch", factory: fetchAdapter, capabilities }
]
