/**
 * @tollgate/gateway — a loopback Anthropic API endpoint that lets any runtime
 * use the subscription login without ever holding its refresh token.
 *
 * The conformance suites' adapters are `@tollgate/gateway/conformance`, not part of
 * this entry: they load the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Config from "./Config.js"
/** @since 0.1.0 */
export * as Envelope from "./Envelope.js"
/** @since 0.1.0 */
export * as Gateway from "./Gateway.js"
/** @since 0.1.0 */
export * as GatewayKey from "./GatewayKey.js"
/** @since 0.1.0 */
export * as Paths from "./Paths.js"
