/**
 * Shared checks on an lstat/fstat result: what kind of file it is, and
 * whether it belongs to this process's effective uid.
 */
import type { Stats } from "node:fs"
import { type Kind, UnsafePath } from "../UnsafePath.js"

/** @internal */
export const kindOf = (st: Stats): Kind =>
  st.isFile()
    ? "file"
    : st.isDirectory()
      ? "directory"
      : st.isSymbolicLink()
        ? "symlink"
        : st.isFIFO()
          ? "fifo"
          : st.isSocket()
            ? "socket"
            : st.isCharacterDevice()
              ? "character device"
              : st.isBlockDevice()
                ? "block device"
                : "unknown"

/** This process's effective uid; `undefined` where there are no uids (Windows). @internal */
export const effectiveUid = (): number | undefined => process.geteuid?.() ?? process.getuid?.()

/** Throws `foreign_owner` unless `st` is owned by the effective uid. @internal */
export const assertOurs = (path: string, st: Stats): void => {
  const uid = effectiveUid()
  if (uid !== undefined && st.uid !== uid)
    throw new UnsafePath({ reason: "foreign_owner", path, ownerUid: st.uid, uid })
}

/** The errno code of a Node error, if any. @internal */
export const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined
