/**
 * @tollgate/daemon — a usage daemon that keeps quota fresh for statuslines
 * without ever hammering Anthropic, and the tiny statusline client.
 *
 * The conformance suites' adapters are `@tollgate/daemon/conformance`, not part of
 * this entry: they load the optional peer `@tollgate/conformance`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Daemon from "./Daemon.js"
/** @since 0.1.0 */
export * as Login from "./Login.js"
/** @since 0.1.0 */
export * as Paths from "./Paths.js"
/** @since 0.1.0 */
export * as Protocol from "./Protocol.js"
/** @since 0.1.0 */
export * as Published from "./Published.js"
/** @since 0.1.0 */
export * as Quota from "./Quota.js"
/** @since 0.1.0 */
export * as Server from "./Server.js"
/** @since 0.1.0 */
export * as ServiceUnit from "./ServiceUnit.js"
/** @since 0.1.0 */
export * as SingleInstance from "./SingleInstance.js"
/** @since 0.1.0 */
export * as StateFile from "./StateFile.js"
