/**
 * @tollgate/claude-credentials — refresh and write Claude Code's credential
 * store safely alongside Claude Code.
 *
 * The conformance suites' adapters are `@tollgate/claude-credentials/conformance`, not part of
 * this entry: they load the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** The Node composition: open Claude Code's store with its locks and a refresher over it. @since 0.1.0 */
export * as ClaudeCredentials from "./ClaudeCredentials.js"
/** The port every backend implements: read and replace the whole credentials document. @since 0.1.0 */
export * as CredentialStore from "./CredentialStore.js"
/** The `.credentials.json` backend, written atomically the way Claude Code writes it. @since 0.1.0 */
export * as FileStore from "./FileStore.js"
/** The macOS Keychain backend, through `security -i` with no secret on a command line. @since 0.1.0 */
export * as KeychainStore from "./KeychainStore.js"
/** Finds the login Claude Code would use (env token, Keychain or file) without a network call. @since 0.2.0 */
export * as LoginDiscovery from "./LoginDiscovery.js"
/** The typed reasons a refresh did not happen or did not stick. @since 0.1.0 */
export * as RefreshErrors from "./RefreshErrors.js"
/** The refresh protocol: re-read under the lock, prepare, refresh once, merge and commit. @since 0.1.0 */
export * as Refresher from "./Refresher.js"
/** RefreshState: what a refresh remembers between processes (the token endpoint's backoff, the last outcome). @since 0.2.0 */
export * as RefreshState from "./RefreshState.js"
/** Claude Code's refresh and storage-write locks, taken the way Claude Code takes them. @since 0.1.0 */
export * as RefreshLock from "./RefreshLock.js"
/** Where Claude Code keeps its login: config dir, file and Keychain item, from the environment. @since 0.1.0 */
export * as StoreLocation from "./StoreLocation.js"
/** Picks the backend Claude Code would read and keeps every backend holding a login in step. @since 0.1.0 */
export * as Stores from "./Stores.js"
