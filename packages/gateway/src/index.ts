/**
 * @tollgate/gateway — a loopback Anthropic API endpoint that lets any runtime
 * use the subscription login without ever holding its refresh token.
 *
 * The conformance suites' adapters are `@tollgate/gateway/conformance`, not part of
 * this entry: they load the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** Config: loads the gateway's accounts, from `gateway.json` or this environment's Claude Code login. @since 0.1.0 */
export * as Config from "./Config.js"
/** Envelope: the Anthropic error envelope a client gets when no account could serve it. @since 0.1.0 */
export * as Envelope from "./Envelope.js"
/** Gateway: the loopback HTTP endpoint that signs and forwards requests with the subscription login. @since 0.1.0 */
export * as Gateway from "./Gateway.js"
/** GatewayKey: the per-user key clients present instead of a real credential. @since 0.1.0 */
export * as GatewayKey from "./GatewayKey.js"
/** Paths: where the gateway keeps its key, accounts, socket and state. @since 0.1.0 */
export * as Paths from "./Paths.js"
