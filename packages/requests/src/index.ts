/**
 * @tollgate/requests — the signed request path shared by the opencode plugin
 * and the gateway: a `fetch` that signs with the subscription login, the
 * account list and its shared state, the logins, the daemon forwarder and the
 * status table.
 *
 * The conformance suites' adapter is `@tollgate/requests/conformance`, not part
 * of this entry: it loads the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AccountStore from "./AccountStore.js"
/** @since 0.1.0 */
export * as Accounts from "./Accounts.js"
/** @since 0.1.0 */
export * as AuthFile from "./AuthFile.js"
/** @since 0.1.0 */
export * as AuthorizedFetch from "./AuthorizedFetch.js"
/** @since 0.1.0 */
export * as DaemonForwarder from "./DaemonForwarder.js"
/** @since 0.1.0 */
export * as SharedLogin from "./SharedLogin.js"
/** @since 0.1.0 */
export * as StatusCommand from "./StatusCommand.js"
/** @since 0.1.0 */
export * as SubscriptionLogin from "./SubscriptionLogin.js"
