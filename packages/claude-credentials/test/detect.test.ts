// Stores.detect: the store Claude Code would read, picked in one place for refresh, the daemon and doctor. The
// macOS branch runs on any machine with the fake `security` tool (test/fixtures/security) and platform "darwin".
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as StoreLocation from "../src/StoreLocation.js"
import * as Stores from "../src/Stores.js"
import { fakeSecurityVars, writeFakeKeychain, writeFakeSecurity } from "./support/fakeSecurity.js"

const login = (accessToken: string) =>
  JSON.stringify({ claudeAiOauth: { accessToken, refreshToken: "r", expiresAt: 1, scopes: ["user:inference"] } })

/** A temp HOME, its location, and a `security` wrapper over a fake Keychain that holds `keychainItem` if given. */
const world = (keychainItem: string | null) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "tollgate-detect-"))
      const location = StoreLocation.resolve({ HOME: dir, USER: "jane" })
      const store = path.join(dir, "keychain.json")
      await writeFakeKeychain(
        store,
        keychainItem === null ? [] : [{ service: location.keychainService, account: "jane", password: keychainItem }]
      )
      const security = await writeFakeSecurity(
        path.join(dir, "security"),
        fakeSecurityVars(store, path.join(dir, "log"))
      )
      return { dir, location, security }
    }),
    ({ dir }) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

const writeFileLogin = (location: StoreLocation.Location) =>
  Effect.promise(async () => {
    await mkdir(location.configDir, { recursive: true })
    await writeFile(location.file, login("from-file"), { mode: 0o600 })
  })

describe("Stores.detect", () => {
  it.scoped("on macOS, a Keychain holding a login is what Claude Code reads", () =>
    Effect.gen(function* () {
      const w = yield* world(login("from-keychain"))
      const found = yield* Stores.detect(w.location, { platform: "darwin", securityPath: w.security })
      expect(found.chosen).toBe("keychain")
      expect(found.present).toEqual(["keychain"])
    })
  )

  it.scoped("on macOS, an empty Keychain falls back to the file", () =>
    Effect.gen(function* () {
      const w = yield* world(null)
      yield* writeFileLogin(w.location)
      const found = yield* Stores.detect(w.location, { platform: "darwin", securityPath: w.security })
      expect(found.chosen).toBe("file")
      expect(found.why).toMatch(/Keychain holds no login/)
    })
  )

  it.scoped("on macOS without the security tool, and on Linux, there is only the file", () =>
    Effect.gen(function* () {
      const w = yield* world(login("from-keychain"))
      yield* writeFileLogin(w.location)
      const missing = yield* Stores.detect(w.location, { platform: "darwin", securityPath: path.join(w.dir, "nope") })
      const linux = yield* Stores.detect(w.location, { platform: "linux", securityPath: w.security })
      for (const found of [missing, linux]) {
        expect(found.chosen).toBe("file")
        expect(found.why).toMatch(/only store/)
      }
    })
  )
})
