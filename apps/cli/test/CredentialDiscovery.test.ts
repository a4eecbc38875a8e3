/**
 * Discovery in-process, with the environment supplied through a
 * ConfigProvider: the edge cases that do not need a spawned CLI.
 */
import { fileURLToPath } from "node:url"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { StoreLocation } from "@tollgate/claude-credentials"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as CredentialDiscovery from "../src/CredentialDiscovery.js"
import * as DoctorReport from "../src/DoctorReport.js"

// claude-credentials' fake `security`: a Keychain in a JSON file, the same command line as the real one.
const FAKE_SECURITY = fileURLToPath(
  new URL("../../../packages/claude-credentials/test/fixtures/security", import.meta.url)
)

const SECRET = "sk-ant-oat01-UnitFixtureSecret-42424242"

const discoverWith = (env: Record<string, string>) =>
  CredentialDiscovery.discover.pipe(Effect.withConfigProvider(ConfigProvider.fromJson(env)))

/** A temp HOME plus a helper writing `<dir>/.credentials.json`. */
const setup = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const home = yield* fs.makeTempDirectoryScoped({ prefix: "tollgate-discovery-" })
  const store = (dir: string, text: string) =>
    Effect.gen(function* () {
      yield* fs.makeDirectory(dir, { recursive: true })
      yield* fs.writeFileString(path.join(dir, CredentialDiscovery.FILE_NAME), text)
      yield* fs.chmod(path.join(dir, CredentialDiscovery.FILE_NAME), 0o600)
      return path.join(dir, CredentialDiscovery.FILE_NAME)
    })
  return { home, join: path.join, store, fs }
})

const login = (subscriptionType: string) =>
  JSON.stringify({ claudeAiOauth: { accessToken: SECRET, scopes: ["user:inference"], subscriptionType } })

describe("CredentialDiscovery.discover", () => {
  it.scoped("prefers the token variable, then the secure-storage dir, then CLAUDE_CONFIG_DIR, then HOME", () =>
    Effect.gen(function* () {
      const { home, join, store } = yield* setup
      const inHome = yield* store(join(home, ".claude"), login("pro"))
      const inConfig = yield* store(join(home, "config"), login("team"))
      const inSecure = yield* store(join(home, "secure"), login("max"))
      const env = { HOME: home }
      const withConfig = { ...env, CLAUDE_CONFIG_DIR: join(home, "config") }
      const withSecure = { ...withConfig, CLAUDE_SECURESTORAGE_CONFIG_DIR: join(home, "secure") }

      expect(yield* discoverWith(env)).toMatchObject({ _tag: "Found", path: inHome })
      expect(yield* discoverWith(withConfig)).toMatchObject({ _tag: "Found", path: inConfig })
      expect(yield* discoverWith(withSecure)).toMatchObject({ _tag: "Found", path: inSecure, mode: 0o600 })
      // An empty variable is no token at all.
      expect(yield* discoverWith({ ...withSecure, CLAUDE_CODE_OAUTH_TOKEN: "" })).toMatchObject({ path: inSecure })
      expect(yield* discoverWith({ ...withSecure, CLAUDE_CODE_OAUTH_TOKEN: SECRET })).toMatchObject({
        _tag: "Found",
        source: "environment",
        path: null,
        login: { expiryKnown: false, hasRefreshToken: false, scopes: { _tag: "Known", scopes: ["user:inference"] } }
      })
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("reports a malformed login without quoting the file", () =>
    Effect.gen(function* () {
      const { home, join, store } = yield* setup
      yield* store(join(home, ".claude"), JSON.stringify({ claudeAiOauth: { accessToken: SECRET, scopes: SECRET } }))
      const found = yield* discoverWith({ HOME: home })
      expect(found).toMatchObject({ _tag: "NotFound", reason: "malformed" })
      expect(JSON.stringify(found)).not.toContain(SECRET)
      expect(found._tag === "NotFound" && found.detail).toContain("claudeAiOauth.scopes")
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("reports a file holding only mcpOAuth as no login, naming its keys but no values", () =>
    Effect.gen(function* () {
      const { home, join, store } = yield* setup
      yield* store(join(home, ".claude"), JSON.stringify({ mcpOAuth: { server: { accessToken: SECRET } } }))
      const found = yield* discoverWith({ HOME: home })
      expect(found).toMatchObject({
        _tag: "NotFound",
        reason: "no_login",
        detail: "the file holds no Claude login (no claudeAiOauth; it has mcpOAuth)"
      })
      expect(JSON.stringify(found)).not.toContain(SECRET)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("reads a blanked login (after a refused refresh) as found but unusable", () =>
    Effect.gen(function* () {
      const { home, join, store } = yield* setup
      yield* store(
        join(home, ".claude"),
        JSON.stringify({
          // What Claude Code writes back after invalid_grant (reference, section 3).
          claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0, scopes: ["user:inference"] }
        })
      )
      const found = yield* discoverWith({ HOME: home })
      expect(found).toMatchObject({ _tag: "Found", login: { fingerprint: null, hasRefreshToken: false } })
      const report = DoctorReport.make(found, Date.now())
      expect(report.expired).toBe(true)
      expect(report.warnings.join("\n")).toContain("The access token is empty")
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("treats a directory where the file should be as unreadable", () =>
    Effect.gen(function* () {
      const { home, join, fs } = yield* setup
      yield* fs.makeDirectory(join(home, ".claude", CredentialDiscovery.FILE_NAME), { recursive: true })
      expect(yield* discoverWith({ HOME: home })).toMatchObject({ _tag: "NotFound", reason: "unreadable" })
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("on macOS reports the Keychain's login, which Claude Code reads before the file, and never its token", () =>
    Effect.gen(function* () {
      const { home, join, store, fs } = yield* setup
      yield* store(join(home, ".claude"), login("pro"))
      // The fake `security` (claude-credentials' test fixture) over a Keychain holding a Max login for this user.
      const location = StoreLocation.resolve({ HOME: home, USER: "jane" })
      const keychain = join(home, "keychain.json")
      const hex = Buffer.from(login("max")).toString("hex")
      yield* fs.writeFileString(
        keychain,
        JSON.stringify({ items: [{ service: location.keychainService, account: "jane", hex }] })
      )
      const security = join(home, "security")
      yield* fs.writeFileString(
        security,
        `#!/bin/sh\nexport FAKE_SECURITY_STORE='${keychain}' FAKE_SECURITY_LOG='${join(home, "log")}' FAKE_SECURITY_NODE='${process.execPath}'\nexec '${FAKE_SECURITY}' "$@"\n`
      )
      yield* fs.chmod(security, 0o755)
      const found = yield* CredentialDiscovery.discoverWith({ platform: "darwin", securityPath: security }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromJson({ HOME: home, USER: "jane" }))
      )
      expect(found).toMatchObject({
        _tag: "Found",
        source: "keychain",
        path: null,
        keychainService: location.keychainService,
        login: { subscriptionType: "max" }
      })
      const words = DoctorReport.render(DoctorReport.make(found, Date.now()), Date.now())
      expect(words).toContain(`macOS Keychain (item "${location.keychainService}"`)
      expect(words).not.toContain(SECRET)
      // Linux has no Keychain: the same HOME reports the file.
      const linux = yield* CredentialDiscovery.discoverWith({ platform: "linux", securityPath: security }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromJson({ HOME: home, USER: "jane" }))
      )
      expect(linux).toMatchObject({ _tag: "Found", source: "file", login: { subscriptionType: "pro" } })
    }).pipe(Effect.provide(NodeContext.layer))
  )
})
