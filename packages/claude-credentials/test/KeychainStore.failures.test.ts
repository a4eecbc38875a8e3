// KeychainStore's failures against a fake `security` that fails, lies, hangs or floods: each is a
// typed keychain error that names what happened and never quotes a token or the tool's output.
import { describe, expect, it } from "@effect/vitest"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Security from "../src/internal/security.js"
import * as KeychainStore from "../src/KeychainStore.js"
import {
  decode,
  encode,
  expectNoSecret,
  fullDocument,
  harness,
  locationIn,
  storeError,
  tokens
} from "./support/keychain.js"

describe("KeychainStore failures against a fake `security`", () => {
  it.scopedLive("a failing add is a keychain write error that quotes neither token nor the tool's output", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const location = locationIn(h.dir)
      const working = KeychainStore.make(location, { securityPath: yield* Effect.promise(() => h.security()) })
      const before = fullDocument(tokens())
      yield* working.write(decode(before))
      const t = tokens()
      const failing = KeychainStore.make(location, {
        securityPath: yield* Effect.promise(() => h.security({ FAKE_SECURITY_FAIL: "add" }))
      })
      const error = yield* Effect.flip(failing.write(decode(fullDocument(t))))
      expect(storeError(error)).toEqual({ backend: "keychain", operation: "write", reason: "keychain" })
      expect(error.where).toBe("Claude Code-credentials")
      expect(error.detail).toBe("security exit status 1")
      expectNoSecret(error.message, t)
      expectNoSecret(JSON.stringify(error), t)
      expect(Option.map(yield* working.read, encode)).toEqual(Option.some(before))
    })
  )

  it.scopedLive("an add that exits 0 without storing fails the read-back check", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), {
        securityPath: yield* Effect.promise(() => h.security({ FAKE_SECURITY_FAIL: "lie" }))
      })
      const t = tokens()
      const error = yield* Effect.flip(store.write(decode(fullDocument(t))))
      expect(storeError(error)).toEqual({ backend: "keychain", operation: "write", reason: "keychain" })
      expect(error.detail).toMatch(/reading the item back/)
      expectNoSecret(error.message, t)
    })
  )

  it.scopedLive("a security that hangs is killed at the timeout", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), {
        securityPath: yield* Effect.promise(() => h.security({ FAKE_SECURITY_FAIL: "hang" })),
        timeoutMs: 300
      })
      const started = Date.now()
      const error = yield* Effect.flip(store.read)
      const elapsed = Date.now() - started
      expect(storeError(error)).toEqual({ backend: "keychain", operation: "read", reason: "keychain" })
      expect(error.detail).toBe("security timed out after 300 ms and was killed")
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect(elapsed).toBeLessThan(300 + 2_000)
      const pids = (yield* Effect.promise(() => h.log())).filter((e) => e.event === "start").map((e) => e.pid)
      expect(pids).toHaveLength(1)
      const alive = yield* Effect.promise(async () => {
        for (let i = 0; i < 100; i++) {
          try {
            process.kill(pids[0]!, 0)
          } catch {
            return false
          }
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        return true
      })
      expect(alive).toBe(false)
    })
  )

  it.scopedLive("a locked keychain (exit 36) is a keychain read error naming the status", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), {
        securityPath: yield* Effect.promise(() => h.security({ FAKE_SECURITY_FAIL: "find" }))
      })
      const error = yield* Effect.flip(store.read)
      expect(storeError(error)).toEqual({ backend: "keychain", operation: "read", reason: "keychain" })
      expect(error.detail).toMatch(/^security exit status 36 \(errSecInteractionNotAllowed/)
    })
  )

  it.scopedLive("output past the size cap kills security and is an error", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), {
        securityPath: yield* Effect.promise(() => h.security({ FAKE_SECURITY_FAIL: "flood" }))
      })
      const error = yield* Effect.flip(store.read)
      expect(error.reason).toBe("keychain")
      expect(error.detail).toBe(`security printed more than ${Security.MAX_OUTPUT_BYTES} bytes and was killed`)
    })
  )

  it.scopedLive("a stored password that is not a document is a typed error that never quotes it", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), { securityPath: yield* Effect.promise(() => h.security()) })
      const cases = [
        ["sk-ant-oat01-GARBAGE-SECRET {not json", "not_json"],
        ['["sk-ant-oat01-GARBAGE-SECRET"]', "not_an_object"],
        ['{"claudeAiOauth":{"accessToken":42,"refreshToken":"sk-ant-ort01-GARBAGE-SECRET"}}', "malformed_login"],
        ['{"note":"GARBAGE-SECRET ü"}', null]
      ] as const
      for (const [password, reason] of cases) {
        yield* Effect.promise(() => h.seed("Claude Code-credentials", "jane doe", password))
        const result = yield* Effect.either(store.read)
        if (reason === null) {
          expect(Either.map(result, Option.map(encode))).toEqual(Either.right(Option.some(JSON.parse(password))))
          continue
        }
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) {
          expect(storeError(result.left)).toEqual({ backend: "keychain", operation: "read", reason })
          expect(result.left.message).not.toContain("GARBAGE")
          expect(JSON.stringify(result.left)).not.toContain("GARBAGE")
        }
      }
    })
  )

  it.scopedLive("a document too large for one security -i line is refused, never sent on a command line", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const location = locationIn(h.dir)
      const store = KeychainStore.make(location, { securityPath: yield* Effect.promise(() => h.security()) })
      const limit = KeychainStore.maxDocumentBytes(location)
      expect(limit).toBeGreaterThan(1_500)
      const t = tokens()
      const sized = (bytes: number) => {
        const base = fullDocument(t, { padding: "" })
        const padding = "x".repeat(bytes - Buffer.byteLength(JSON.stringify(base)))
        return fullDocument(t, { padding })
      }
      const fits = sized(limit)
      expect(Buffer.byteLength(JSON.stringify(fits))).toBe(limit)
      yield* store.write(decode(fits))
      expect(Option.map(yield* store.read, encode)).toEqual(Option.some(fits))

      const before = (yield* Effect.promise(() => h.log())).length
      const error = yield* Effect.flip(store.write(decode(sized(limit + 1))))
      expect(storeError(error)).toEqual({ backend: "keychain", operation: "write", reason: "keychain" })
      expect(error.detail).toMatch(/too large/)
      expect((yield* Effect.promise(() => h.log())).length).toBe(before) // no security was started
      expect(Option.map(yield* store.read, encode)).toEqual(Option.some(fits))
    })
  )

  it.scopedLive("a missing security executable is a keychain error, not a crash", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), { securityPath: path.join(h.dir, "nowhere", "security") })
      const error = yield* Effect.flip(store.read)
      expect(storeError(error)).toEqual({ backend: "keychain", operation: "read", reason: "keychain" })
      expect(error.detail).toBe("no security executable found")
    })
  )
})
