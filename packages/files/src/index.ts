/**
 * @tollgate/files — state and runtime files created and opened safely:
 * private directories that are ours and not symlinks, atomic writes under
 * random `O_EXCL|O_NOFOLLOW` temp names, and capped reads of regular files.
 * Plain `node:fs`, no dependencies and no Effect, so the statusline client
 * can use it.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AtomicFile from "./AtomicFile.js"
/** @since 0.1.0 */
export * as PrivateDirectory from "./PrivateDirectory.js"
/** @since 0.1.0 */
export * as SafeRead from "./SafeRead.js"
/** @since 0.1.0 */
export * as UnsafePath from "./UnsafePath.js"
