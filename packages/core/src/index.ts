/**
 * @tollgate/core — typed classification of Anthropic subscription-OAuth
 * responses, with the OAuth client, backoff and single-flight refresh.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Backoff from "./Backoff.js"
/** @since 0.1.0 */
export * as Classification from "./Classification.js"
/** @since 0.1.0 */
export * as Classify from "./Classify.js"
/** @since 0.1.0 */
export * as Credential from "./Credential.js"
/** @since 0.1.0 */
export * as Endpoint from "./Endpoint.js"
/** @since 0.1.0 */
export * as JsonText from "./JsonText.js"
/** @since 0.1.0 */
export * as OAuthClient from "./OAuthClient.js"
/** @since 0.1.0 */
export * as OAuthConfig from "./OAuthConfig.js"
/** @since 0.1.0 */
export * as RefreshCoordinator from "./RefreshCoordinator.js"
/** @since 0.1.0 */
export * as RetryAfter from "./RetryAfter.js"
/** @since 0.1.0 */
export * as Scopes from "./Scopes.js"
/** @since 0.2.0 */
export * as Signing from "./Signing.js"
/** @since 0.2.0 */
export * as UnifiedHeaders from "./UnifiedHeaders.js"
/** @since 0.1.0 */
export * as Usage from "./Usage.js"
/** @since 0.1.0 */
export * as UsagePoller from "./UsagePoller.js"
