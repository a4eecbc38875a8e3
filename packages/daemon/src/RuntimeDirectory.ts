/**
 * Whether the daemon's runtime directory, and the status published in it,
 * are this user's: the statusline reads that status and sends that socket
 * Claude Code's `session_id` and `rate_limits`, so on a shared
 * `XDG_RUNTIME_DIR` where another user created `tollgate/` (or where it is a
 * symlink) it must do neither and show `daemon down` instead; `tollgate
 * doctor` says why. Plain TypeScript on `@tollgate/files`: it is on the
 * statusline's hot path (two `lstat`s).
 *
 * @since 0.1.0
 */
// Deep imports: the package index would also load AtomicFile (node:crypto) on the statusline's path.
import * as PrivateDirectory from "@tollgate/files/PrivateDirectory"
import * as UnsafePath from "@tollgate/files/UnsafePath"
import { lstatSync } from "node:fs"
import type { Paths } from "./Paths.js"

/**
 * Why the runtime directory or its `status.json` must not be used (a
 * symlink, not a directory or not a regular file, another user's), or
 * `null` when they are ours or simply not there yet.
 *
 * @since 0.1.0
 */
export const refusal = (paths: Pick<Paths, "runtimeDir" | "published">): UnsafePath.UnsafePath | null => {
  try {
    if (!PrivateDirectory.verifySync(paths.runtimeDir)) return null
    const st = lstatSync(paths.published, { throwIfNoEntry: false })
    if (st === undefined) return null
    if (st.isSymbolicLink()) return new UnsafePath.UnsafePath({ reason: "symlink", path: paths.published })
    if (!st.isFile())
      return new UnsafePath.UnsafePath({
        reason: "not_regular",
        path: paths.published,
        kind: st.isDirectory() ? "directory" : "unknown"
      })
    const uid = process.geteuid?.()
    if (uid !== undefined && st.uid !== uid) {
      return new UnsafePath.UnsafePath({ reason: "foreign_owner", path: paths.published, ownerUid: st.uid, uid })
    }
    return null
  } catch (error) {
    if (UnsafePath.isUnsafePath(error)) return error
    // EACCES on a parent and the like: not ours to use either.
    throw error
  }
}
