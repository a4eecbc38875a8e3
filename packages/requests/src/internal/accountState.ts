/**
 * The account-state file: its shape, lenient decoding, merging, re-keying,
 * atomic writes and the cross-process lock (`@tollgate/files`' LockDir: a
 * directory next to the file with an owner record; taken over at once when
 * its holder is provably dead, after `STALE_LOCK_MS` otherwise).
 *
 * The entry the rest of the package imports; each concept lives in its own
 * module: the file on disk (`accountStateFile.ts`), the lock and exit
 * handling (`accountStateLock.ts`), and pure changes to the contents
 * (`accountStateMerge.ts`).
 */
export {
  type AccountState,
  decode,
  empty,
  MAX_BYTES,
  readFile,
  type StoreFile,
  writeFile
} from "./accountStateFile.js"
export { type Change, type LockOptions, STALE_LOCK_MS, Terminating, withLock } from "./accountStateLock.js"
export { FOREVER, identityKey, mergeAccount, mergeBackoff, prune, RETAIN_MS, rekey } from "./accountStateMerge.js"
