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

/** AtomicFile: replaces a file so readers see the old or the new contents, never a part. @since 0.1.0 */
export * as AtomicFile from "./AtomicFile.js"
/** ConfigFile: edits another program's config file with a backup and an atomic replace, through its symlink. @since 0.2.0 */
export * as ConfigFile from "./ConfigFile.js"
/** LockDir: mkdir directory locks in Claude Code's convention, with heartbeat and stale takeover. @since 0.2.0 */
export * as LockDir from "./LockDir.js"
/**
 * LockOwner: owner records beside a lock directory, proving a dead holder so its
 * lock is taken over at once.
 *
 * @since 0.2.0
 */
export * as LockOwner from "./LockOwner.js"
/** PrivateDirectory: creates or checks a 0700 directory that is ours and not a symlink. @since 0.1.0 */
export * as PrivateDirectory from "./PrivateDirectory.js"
/**
 * ProcessIdentity: who a process is, as Claude Code records it, and whether it
 * provably no longer runs.
 *
 * @since 0.2.0
 */
export * as ProcessIdentity from "./ProcessIdentity.js"
/** SafeRead: capped reads of a small state file without following symlinks or blocking on a FIFO. @since 0.1.0 */
export * as SafeRead from "./SafeRead.js"
/** UnsafePath: the error for a path this package will not use. @since 0.1.0 */
export * as UnsafePath from "./UnsafePath.js"
/** Where tollgate keeps its own files, by the XDG base-directory spec. @since 0.2.0 */
export * as Xdg from "./Xdg.js"
