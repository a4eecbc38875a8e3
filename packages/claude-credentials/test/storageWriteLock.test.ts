// Claude Code's storage-write lock taken by tollgate, and what `inspect` reports about the locks.
import * as fs from "node:fs/promises"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as RefreshLock from "../src/RefreshLock.js"
import { tempStore, leftovers, nothingLeft, ageDir, exclusive } from "./support/refreshLock.js"

describe("withStorageWriteLock", () => {
  it.scopedLive("holds .storage-write.lock alone, exclusively, and releases it", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      const work = exclusive()
      const states = yield* Effect.forEach(
        Array.from({ length: 4 }),
        () =>
          RefreshLock.withStorageWriteLock(store.location, { retryMs: 5 })(
            Effect.zipLeft(RefreshLock.inspect(store.location), work.body(10))
          ),
        { concurrency: "unbounded" }
      )
      expect(work.stats()).toEqual({ most: 1, done: 4 })
      for (const state of states) {
        expect(state).toMatchObject({ held: false, legacyHeld: false, owner: null, storageWriteHeld: true })
      }
      expect(yield* leftovers(store)).toEqual(nothingLeft)
    })
  )

  it.scopedLive("takes over a storage-write lock after Claude Code's 15 s stale limit by default", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      yield* Effect.promise(() => fs.mkdir(store.storageWrite))
      yield* ageDir(store.storageWrite, 16_000)
      yield* RefreshLock.withStorageWriteLock(store.location, { waitMs: 0 })(Effect.void)
      yield* Effect.promise(() => fs.mkdir(store.storageWrite))
      yield* ageDir(store.storageWrite, 10_000)
      const error = yield* RefreshLock.withStorageWriteLock(store.location, { waitMs: 0 })(Effect.void).pipe(
        Effect.flip
      )
      expect(error).toMatchObject({ lock: "storage-write", reason: "timeout", where: store.storageWrite })
      expect(error.message).toContain("probably Claude Code saving the login")
    })
  )
})

describe("inspect", () => {
  it.scopedLive("reports an idle store, and a stale lock whose holder cannot be seen from here", () =>
    Effect.gen(function* () {
      const store = yield* tempStore
      expect(yield* RefreshLock.inspect(store.location)).toEqual({
        held: false,
        stale: false,
        ageMs: null,
        owner: null,
        legacyHeld: false,
        storageWriteHeld: false
      })
      yield* Effect.promise(() => fs.mkdir(store.lock))
      yield* ageDir(store.lock, 90_000)
      yield* Effect.promise(() =>
        fs.writeFile(
          store.owner,
          JSON.stringify({ pid: 7, pidDomain: "linux:other:pid:[1]", pidSpace: "other", lockBirthtimeMs: 5 })
        )
      )
      const state = yield* RefreshLock.inspect(store.location)
      expect(state).toMatchObject({ held: true, stale: true, owner: { pid: 7, alive: null }, legacyHeld: false })
      expect(state.ageMs).toBeGreaterThanOrEqual(90_000)
      yield* Effect.promise(() => fs.writeFile(store.owner, JSON.stringify({ pid: 9 })))
      expect((yield* RefreshLock.inspect(store.location)).owner).toEqual({ pid: 9, alive: null })
    })
  )
})
