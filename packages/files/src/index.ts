/**
 * @tollgate/files — state and runtime files created and opened safely:
 * private directories that are ours and not symlinks, atomic writes under
 * random `O_EXCL|O_NOFOLLOW` temp names, capped reads of regular files, and
 * mkdir lock directories with owner records that prove a holder dead.
 * Plain `node:fs`, no dependencies and no Effect, so the statusline client
 * can use it.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AtomicFile from "./AtomicFile.js"
/** @since 0.2.0 */
export * as LockDir from "./LockDir.js"
/** @since 0.2.0 */
export * as LockOwner from "./LockOwner.js"
/** @since 0.1.0 */
export * as PrivateDirectory from "./PrivateDirectory.js"
/** @since 0.2.0 */
export * as ProcessIdentity from "./ProcessIdentity.js"
/** @since 0.1.0 */
export * as SafeRead from "./SafeRead.js"
/** @since 0.1.0 */
export * as UnsafePath from "./UnsafePath.js"
/** Where tollgate keeps its own files, by the XDG base-directory spec. @since 0.2.0 */
export * as Xdg from "./Xdg.js"
