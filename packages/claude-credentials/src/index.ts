/**
 * @tollgate/claude-credentials — refresh and write Claude Code's credential
 * store safely alongside Claude Code.
 *
 * The conformance suites' adapters are `@tollgate/claude-credentials/conformance`, not part of
 * this entry: they load the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as ClaudeCredentials from "./ClaudeCredentials.js"
/** @since 0.1.0 */
export * as CredentialStore from "./CredentialStore.js"
/** @since 0.1.0 */
export * as FileStore from "./FileStore.js"
/** @since 0.1.0 */
export * as KeychainStore from "./KeychainStore.js"
/** @since 0.2.0 */
export * as LoginDiscovery from "./LoginDiscovery.js"
/** @since 0.1.0 */
export * as RefreshErrors from "./RefreshErrors.js"
/** @since 0.1.0 */
export * as Refresher from "./Refresher.js"
/** RefreshState: what a refresh remembers between processes (the token endpoint's backoff, the last outcome). @since 0.2.0 */
export * as RefreshState from "./RefreshState.js"
/** @since 0.1.0 */
export * as RefreshLock from "./RefreshLock.js"
/** @since 0.1.0 */
export * as StoreLocation from "./StoreLocation.js"
/** @since 0.1.0 */
export * as Stores from "./Stores.js"
