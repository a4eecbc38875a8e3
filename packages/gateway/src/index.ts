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
/** HermesConfig: the edits that point Hermes Agent at the gateway (config.yaml, .env, auth.json) and their undoing. @since 0.2.0 */
export * as HermesConfig from "./HermesConfig.js"
/** HermesInstall: installs and uninstalls the Hermes integration with backups and atomic writes. @since 0.2.0 */
export * as HermesInstall from "./HermesInstall.js"
/** HermesPlugin: the plugin Hermes loads, which routes its refreshes through `tollgate token`. @since 0.2.0 */
export * as HermesPlugin from "./HermesPlugin.js"
/** Paths: where the gateway keeps its key, accounts, socket and state. @since 0.1.0 */
export * as Paths from "./Paths.js"
