/**
 * @tollgate/daemon — a usage daemon that keeps quota fresh for statuslines
 * without ever hammering Anthropic, and the tiny statusline client.
 *
 * The conformance suites' adapters are `@tollgate/daemon/conformance`, not part of
 * this entry: they load the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** Daemon: `tollgate daemon run`, one per user, answering on its socket and persisting its state. @since 0.1.0 */
export * as Daemon from "./Daemon.js"
/** Login: the login the daemon polls with, read-only, as doctor finds it. @since 0.1.0 */
export * as Login from "./Login.js"
/** Paths: where the daemon's socket, published status and state file are. @since 0.1.0 */
export * as Paths from "./Paths.js"
/** Protocol: the socket's JSON requests and replies, dependency-free for the statusline client. @since 0.1.0 */
export * as Protocol from "./Protocol.js"
/** Published: the last status answer beside the socket, read by statuslines instead of asking. @since 0.1.0 */
export * as Published from "./Published.js"
/** Quota: what the daemon knows about quota, from the cheapest source first. @since 0.1.0 */
export * as Quota from "./Quota.js"
/**
 * RuntimeDirectory: whether the runtime directory and its published status are
 * this user's, so a statusline never trusts another user's.
 *
 * @since 0.1.0
 */
export * as RuntimeDirectory from "./RuntimeDirectory.js"
/** Server: the private Unix socket server, one JSON request and reply per connection. @since 0.1.0 */
export * as Server from "./Server.js"
/**
 * ServiceInstall: installs or removes a tollgate program as a per-user service
 * and names the commands that start and stop it.
 *
 * @since 0.2.0
 */
export * as ServiceInstall from "./ServiceInstall.js"
/** ServiceUnit: the systemd user unit and launchd agent that run a tollgate service. @since 0.1.0 */
export * as ServiceUnit from "./ServiceUnit.js"
/** SingleInstance: one daemon per user, by a lock file next to the socket. @since 0.1.0 */
export * as SingleInstance from "./SingleInstance.js"
/** StateFile: the daemon's persisted state, written atomically and read with a size cap. @since 0.1.0 */
export * as StateFile from "./StateFile.js"
