/**
 * The Node composition: Claude Code's store at its location (file, and the
 * Keychain on macOS), Claude Code's locks, and the refresh protocol on top.
 *
 * @since 0.1.0
 */
import type { Backoff, OAuthClient } from "@tollgate/core"
import * as Effect from "effect/Effect"
import type { StoreError } from "./CredentialStore.js"
import * as Refresher from "./Refresher.js"
import * as RefreshLock from "./RefreshLock.js"
import type { Location } from "./StoreLocation.js"
import * as Stores from "./Stores.js"

/**
 * How {@link open} finds and guards the store: symlink policy, platform, the
 * `security` tool and the two locks' tuning. Every field is optional.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Follow a `.credentials.json` that is a symbolic link. */
  readonly followSymlinks?: boolean | undefined
  /** Which platform's rules apply; default `process.platform` (the Keychain is macOS only). */
  readonly platform?: NodeJS.Platform | undefined
  /** The `security` tool; default `/usr/bin/security`. */
  readonly securityPath?: string | undefined
  /** Tuning of the refresh lock. */
  readonly lock?: RefreshLock.Options | undefined
  /** Tuning of the storage-write lock; its staleness stays Claude Code's 15 s unless set here. */
  readonly writeLock?: RefreshLock.Options | undefined
}

/**
 * What {@link open} returns: the location, which backend it chose (and why),
 * and a refresher over that store under Claude Code's locks.
 *
 * @since 0.1.0
 */
export interface Opened {
  readonly location: Location
  readonly resolved: Stores.Resolved
  readonly refresher: Refresher.Refresher<RefreshLock.LockError>
}

/**
 * Opens the store Claude Code would use and a refresher over it.
 *
 * @since 0.1.0
 */
export const open = (
  location: Location,
  options: Options = {}
): Effect.Effect<Opened, StoreError, OAuthClient.OAuthClient | Backoff.Backoff> =>
  Effect.gen(function* () {
    const resolved = yield* Stores.detect(location, options)
    const refresher = yield* Refresher.make<RefreshLock.LockError>({
      store: resolved.store,
      refreshLock: RefreshLock.withRefreshLock(location, options.lock),
      writeLock: RefreshLock.withStorageWriteLock(location, options.writeLock)
    })
    return { location, resolved, refresher }
  })
