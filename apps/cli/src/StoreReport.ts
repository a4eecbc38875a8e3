/**
 * The part of `tollgate doctor` about Claude Code's store rather than the
 * login in it: which backend Claude Code would read and why, the state of
 * its lock directories, and how the last `tollgate refresh` ended.
 */
import { RefreshLock, StoreLocation, Stores } from "@tollgate/claude-credentials"
import * as Effect from "effect/Effect"
import * as RefreshState from "@tollgate/claude-credentials/RefreshState"

/** Field names are part of `doctor --json`'s contract. */
export interface StoreFacts {
  readonly store: {
    readonly backend: "file" | "keychain" | null
    readonly backends: ReadonlyArray<string>
    readonly why: string
  }
  readonly locks: RefreshLock.LockState
  readonly lastRefresh: RefreshState.Last | null
}

/** Gathers the facts; never fails (what cannot be read is said in `why`). */
export const gather = Effect.gen(function* () {
  const location = yield* StoreLocation.fromConfig
  const store = yield* Stores.detect(location).pipe(
    Effect.map((r) => ({ backend: r.chosen, backends: r.present, why: r.why })),
    Effect.catchAll((error) => Effect.succeed({ backend: null, backends: [], why: error.message }))
  )
  const locks = yield* RefreshLock.inspect(location)
  // A refused state directory is refresh's to report (it refuses to start); the doctor still answers.
  const state = yield* RefreshState.load.pipe(Effect.catchTag("UnsafePath", () => Effect.succeed({ last: null })))
  return { store, locks, lastRefresh: state.last } satisfies StoreFacts
})

const seconds = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`)

const lockWords = (locks: RefreshLock.LockState): string => {
  if (!locks.held) return locks.legacyHeld ? "free (but the legacy lock is held)" : "free"
  // The owner record proves its holder gone (same machine and pid namespace): a crash, not a refresh in progress.
  if (locks.owner?.alive === false && locks.owner.pid !== null) {
    return `left by a process that no longer runs (pid ${locks.owner.pid}); the next refresh takes it over at once`
  }
  const who = locks.owner?.pid
    ? `pid ${locks.owner.pid}${locks.owner.alive === false ? ", which is gone" : locks.owner.alive ? ", running" : ""}`
    : "an unknown process"
  const age = locks.ageMs === null ? "" : ` for ${seconds(locks.ageMs)}`
  return locks.stale
    ? `stale: held by ${who}${age} without a heartbeat; the next refresh takes it over`
    : `held by ${who}${age} (probably Claude Code refreshing)`
}

/** Plain-words lines for the doctor's output. */
export const render = (facts: StoreFacts): ReadonlyArray<readonly [string, string]> => [
  [
    "store",
    facts.store.backend === null ? `unreadable: ${facts.store.why}` : `${facts.store.backend} (${facts.store.why})`
  ],
  ["refresh lock", lockWords(facts.locks)],
  ["storage-write lock", facts.locks.storageWriteHeld ? "held" : "free"],
  [
    "last refresh",
    facts.lastRefresh === null
      ? "none recorded by tollgate"
      : `${facts.lastRefresh.outcome} at ${new Date(facts.lastRefresh.at).toISOString()}: ${facts.lastRefresh.message}`
  ]
]
