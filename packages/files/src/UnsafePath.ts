/**
 * The one error `@tollgate/files` raises for a path it will not use: a
 * symlink where a real file or directory belongs, something that is not a
 * directory or not a regular file, another user's file or directory, or a
 * file over the reader's cap. Its `message` is one line naming the path (and
 * the owner, when that is the problem), so a command can print it as is.
 *
 * A plain `Error` subclass, not an Effect error: the statusline client, which
 * keeps Effect out of its import graph, catches it too. It carries `_tag`, so
 * Effect code can still recover with `catchTag("UnsafePath", …)`.
 *
 * @since 0.1.0
 */

/**
 * Why a path was refused.
 *
 * - `symlink`: a symbolic link where a file or directory of ours belongs.
 * - `not_directory`: expected a directory, found something else.
 * - `foreign_owner`: owned by another uid than this process's effective uid.
 * - `not_regular`: expected a regular file, found a FIFO, socket, device or directory.
 * - `too_large`: a regular file over the reader's `maxBytes`.
 *
 * @since 0.1.0
 */
export type Reason = "symlink" | "not_directory" | "foreign_owner" | "not_regular" | "too_large"

/** What was found at the path, for the message of a `not_regular` or `not_directory` refusal. @since 0.1.0 */
export type Kind =
  | "file"
  | "directory"
  | "symlink"
  | "fifo"
  | "socket"
  | "character device"
  | "block device"
  | "unknown"

/**
 * What an {@link UnsafePath} records: the reason, the path, and the details that
 * reason needs for its message.
 *
 * @since 0.1.0
 */
export interface Fields {
  readonly reason: Reason
  readonly path: string
  /** The path's owner, for `foreign_owner`. */
  readonly ownerUid?: number | undefined
  /** This process's effective uid, for `foreign_owner`. */
  readonly uid?: number | undefined
  /** What the path turned out to be, for `not_regular` / `not_directory`. */
  readonly kind?: Kind | undefined
  /** The cap that was exceeded, for `too_large`. */
  readonly maxBytes?: number | undefined
}

const sentence = (f: Fields): string => {
  switch (f.reason) {
    case "symlink":
      return `${f.path} is a symlink; refusing to follow it`
    case "not_directory":
      return `${f.path} is not a directory (${f.kind === "file" ? "a file" : `a ${f.kind ?? "unknown"}`}); refusing to use it`
    case "foreign_owner":
      return `${f.path} belongs to uid ${f.ownerUid ?? "?"}, not to you (uid ${f.uid ?? "?"}); refusing to use it`
    case "not_regular":
      return `${f.path} is not a regular file (a ${f.kind ?? "special file"}); refusing to read it`
    case "too_large":
      return `${f.path} is larger than ${f.maxBytes ?? "?"} bytes; refusing to read it`
  }
}

/**
 * A path `@tollgate/files` refused to create, open or read. Never carries
 * file contents, only the path and what was wrong with it.
 *
 * @since 0.1.0
 */
export class UnsafePath extends Error implements Fields {
  /** For Effect's `catchTag`. */
  readonly _tag = "UnsafePath" as const
  override readonly name = "UnsafePath"
  readonly reason: Reason
  readonly path: string
  readonly ownerUid: number | undefined
  readonly uid: number | undefined
  readonly kind: Kind | undefined
  readonly maxBytes: number | undefined

  constructor(fields: Fields) {
    super(sentence(fields))
    this.reason = fields.reason
    this.path = fields.path
    this.ownerUid = fields.ownerUid
    this.uid = fields.uid
    this.kind = fields.kind
    this.maxBytes = fields.maxBytes
  }
}

/**
 * Whether `u` is an {@link UnsafePath}; by tag too, so it holds across two
 * bundled copies of this module.
 *
 * @since 0.1.0
 */
export const isUnsafePath = (u: unknown): u is UnsafePath =>
  u instanceof UnsafePath || (typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "UnsafePath")
