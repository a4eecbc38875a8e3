/**
 * @tollgate/core — typed classification of Anthropic subscription-OAuth
 * responses, with the OAuth client, backoff and single-flight refresh.
 *
 * @since 0.1.0
 */

/** Backoff: when an endpoint may be called again after a failure. @since 0.1.0 */
export * as Backoff from "./Backoff.js"
/** Classification: the typed verdict on one upstream response. @since 0.1.0 */
export * as Classification from "./Classification.js"
/** Classify: the classifier that turns a status, headers and body into a verdict. @since 0.1.0 */
export * as Classify from "./Classify.js"
/** Credential: Claude Code's stored OAuth login and the facts derived from it. @since 0.1.0 */
export * as Credential from "./Credential.js"
/** Endpoint: the upstream endpoints a verdict can come from. @since 0.1.0 */
export * as Endpoint from "./Endpoint.js"
/** JsonText: refuses JSON text too deep to handle before it is parsed. @since 0.1.0 */
export * as JsonText from "./JsonText.js"
/** OAuthClient: refresh, code exchange, usage and profile over HTTP. @since 0.1.0 */
export * as OAuthClient from "./OAuthClient.js"
/** OAuthConfig: base URLs, client id and User-Agents, as configuration. @since 0.1.0 */
export * as OAuthConfig from "./OAuthConfig.js"
/** RefreshCoordinator: single-flight refresh of a login's tokens. @since 0.1.0 */
export * as RefreshCoordinator from "./RefreshCoordinator.js"
/** RetryAfter: reads `Retry-After` as Anthropic sends it. @since 0.1.0 */
export * as RetryAfter from "./RetryAfter.js"
/** Scopes: OAuth scopes and the capabilities they unlock. @since 0.1.0 */
export * as Scopes from "./Scopes.js"
/** Signing: signs a request with a subscription login. @since 0.2.0 */
export * as Signing from "./Signing.js"
/** UnifiedHeaders: reads the unified rate-limit response headers. @since 0.2.0 */
export * as UnifiedHeaders from "./UnifiedHeaders.js"
/** Usage: the usage endpoint's report. @since 0.1.0 */
export * as Usage from "./Usage.js"
/** UsagePoller: reads quota from the usage endpoint without hammering it. @since 0.1.0 */
export * as UsagePoller from "./UsagePoller.js"
