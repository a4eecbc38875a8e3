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

/** AccountStore: per-account state shared by every opencode process, in one locked file. @since 0.1.0 */
export * as AccountStore from "./AccountStore.js"
/** Accounts: the account entries of the plugin's options and `gateway.json`, validated one by one. @since 0.1.0 */
export * as Accounts from "./Accounts.js"
/** AuthFile: where opencode's own `auth.json` is. @since 0.1.0 */
export * as AuthFile from "./AuthFile.js"
/** AuthorizedFetch: the `fetch` that signs with the subscription login, refreshes and fails over. @since 0.1.0 */
export * as AuthorizedFetch from "./AuthorizedFetch.js"
/** DaemonForwarder: hands unified rate-limit headers to the daemon, fire-and-forget. @since 0.1.0 */
export * as DaemonForwarder from "./DaemonForwarder.js"
/** SharedLogin: signs with the login Claude Code already holds, never copying its refresh token. @since 0.1.0 */
export * as SharedLogin from "./SharedLogin.js"
/** StatusCommand: what `/tollgate` shows inside opencode, and the registry the fetch reports into. @since 0.1.0 */
export * as StatusCommand from "./StatusCommand.js"
/** SubscriptionLogin: the paste-the-code PKCE login as an opencode auth method. @since 0.1.0 */
export * as SubscriptionLogin from "./SubscriptionLogin.js"
