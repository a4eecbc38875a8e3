// LoginDiscovery in-process, the environment supplied through a ConfigProvider and the macOS
// Keychain through the fake `security` tool (test/fixtures/security), so Linux CI covers every branch.
import { chmod, mkdir, mkdtemp, rm, truncate, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Credential } from "@tollgate/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { afterEach, describe, expect, it } from "vitest"
import * as LoginDiscovery from "../src/LoginDiscovery.js"
import * as StoreLocation from "../src/StoreLocation.js"
import { fakeSecurityVars, writeFakeKeychain, writeFakeSecurity } from "./support/fakeSecurity.js"

const SECRET = "sk-ant-oat01-UnitFixtureSecret-42424242"
const KEYCHAIN_SECRET = "sk-ant-oat01-KeychainFixtureSecret-777777"
const REFRESH = "sk-ant-ort01-UnitFixtureRefresh-13131313"
const SECRETS = [SECRET, KEYCHAIN_SECRET, REFRESH]
const USER = "jane"

const homes: Array<string> = []
afterEach(async () => {
  await Promise.all(homes.splice(0).map((home) => rm(home, { recursive: true, force: true })))
})

const newHome = async () => {
  const home = await mkdtemp(path.join(tmpdir(), "tollgate-login-discovery-"))
  homes.push(home)
  return home
}

/** Writes `<dir>/.credentials.json` with mode 0600 and returns its path. */
const store = async (dir: string, text: string) => {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, LoginDiscovery.FILE_NAME)
  await writeFile(file, text)
  await chmod(file, 0o600)
  return file
}

const login = (subscriptionType: string, accessToken = SECRET) =>
  JSON.stringify({
    claudeAiOauth: { accessToken, refreshToken: REFRESH, scopes: ["user:inference"], subscriptionType }
  })

/** A fake `security` whose Keychain holds `items` (service/account/password). */
const fakeSecurity = async (home: string, items: ReadonlyArray<{ service: string; password: string }>) => {
  const keychain = path.join(home, "keychain.json")
  await writeFakeKeychain(
    keychain,
    items.map(({ password, service }) => ({ service, account: USER, password }))
  )
  const security = path.join(home, "bin", "security")
  await mkdir(path.dirname(security))
  return writeFakeSecurity(security, fakeSecurityVars(keychain, path.join(home, "security.log")))
}

/** Every result is checked here: no token, in any form, in its JSON. */
const discover = async (env: Record<string, string>, options: LoginDiscovery.Options = { platform: "linux" }) => {
  const found = await Effect.runPromise(
    LoginDiscovery.discoverWith(options).pipe(Effect.withConfigProvider(ConfigProvider.fromJson(env)))
  )
  const json = JSON.stringify(found)
  for (const secret of SECRETS) {
    expect(json).not.toContain(secret)
    expect(json).not.toContain(secret.slice(13, 30))
  }
  return found
}

const tokenOf = (found: LoginDiscovery.Discovery) =>
  found._tag === "Found" ? Redacted.value(found.accessToken) : undefined

describe("LoginDiscovery", () => {
  it("prefers the token variable, then the secure-storage dir, then CLAUDE_CONFIG_DIR, then HOME", async () => {
    const home = await newHome()
    const inHome = await store(path.join(home, ".claude"), login("pro"))
    const inConfig = await store(path.join(home, "config"), login("team"))
    const inSecure = await store(path.join(home, "secure"), login("max"))
    const env = { HOME: home }
    const withConfig = { ...env, CLAUDE_CONFIG_DIR: path.join(home, "config") }
    const withSecure = { ...withConfig, CLAUDE_SECURESTORAGE_CONFIG_DIR: path.join(home, "secure") }

    expect(await discover(env)).toMatchObject({ _tag: "Found", source: "file", path: inHome })
    expect(await discover(withConfig)).toMatchObject({ _tag: "Found", path: inConfig })
    const secure = await discover(withSecure)
    expect(secure).toMatchObject({
      _tag: "Found",
      path: inSecure,
      mode: 0o600,
      keychainService: null,
      login: { subscriptionType: "max", hasRefreshToken: true, expiryKnown: true }
    })
    expect(tokenOf(secure)).toBe(SECRET)
    // An empty or blank variable is no token at all.
    expect(await discover({ ...withSecure, CLAUDE_CODE_OAUTH_TOKEN: "" })).toMatchObject({ path: inSecure })
    expect(await discover({ ...withSecure, CLAUDE_CODE_OAUTH_TOKEN: "  " })).toMatchObject({ path: inSecure })
    const fromEnv = await discover({ ...withSecure, CLAUDE_CODE_OAUTH_TOKEN: ` ${SECRET}\n` })
    expect(fromEnv).toMatchObject({
      _tag: "Found",
      source: "environment",
      path: null,
      mode: null,
      keychainService: null,
      snapshot: { expiresAt: null, fingerprint: Credential.fingerprint(SECRET) },
      login: { expiryKnown: false, hasRefreshToken: false, scopes: { _tag: "Known", scopes: ["user:inference"] } }
    })
    // Sent trimmed, as Claude Code sends it.
    expect(tokenOf(fromEnv)).toBe(SECRET)
  })

  it("on macOS prefers the token variable to a Keychain holding a login", async () => {
    const home = await newHome()
    const location = StoreLocation.resolve({ HOME: home, USER })
    const security = await fakeSecurity(home, [
      { service: location.keychainService, password: login("max", KEYCHAIN_SECRET) }
    ])
    const found = await discover(
      { HOME: home, USER, CLAUDE_CODE_OAUTH_TOKEN: SECRET },
      { platform: "darwin", securityPath: security }
    )
    expect(found).toMatchObject({ _tag: "Found", source: "environment" })
    expect(tokenOf(found)).toBe(SECRET)
  })

  it("on macOS reports the Keychain's login, which Claude Code reads before the file", async () => {
    const home = await newHome()
    await store(path.join(home, ".claude"), login("pro"))
    const location = StoreLocation.resolve({ HOME: home, USER })
    const security = await fakeSecurity(home, [
      { service: location.keychainService, password: login("max", KEYCHAIN_SECRET) }
    ])
    const found = await discover({ HOME: home, USER }, { platform: "darwin", securityPath: security })
    expect(found).toMatchObject({
      _tag: "Found",
      source: "keychain",
      path: null,
      mode: null,
      keychainService: location.keychainService,
      snapshot: { fingerprint: Credential.fingerprint(KEYCHAIN_SECRET) },
      login: { subscriptionType: "max", fingerprint: Credential.fingerprint(KEYCHAIN_SECRET) }
    })
    expect(tokenOf(found)).toBe(KEYCHAIN_SECRET)
    // Linux has no Keychain: the same HOME and tool report the file.
    expect(await discover({ HOME: home, USER }, { platform: "linux", securityPath: security })).toMatchObject({
      _tag: "Found",
      source: "file",
      login: { subscriptionType: "pro" }
    })
  })

  it("on macOS reports a Keychain login even when the file beside it is broken", async () => {
    const home = await newHome()
    await store(path.join(home, ".claude"), "{ not json")
    const location = StoreLocation.resolve({ HOME: home, USER })
    const security = await fakeSecurity(home, [
      { service: location.keychainService, password: login("max", KEYCHAIN_SECRET) }
    ])
    expect(await discover({ HOME: home, USER }, { platform: "darwin", securityPath: security })).toMatchObject({
      _tag: "Found",
      source: "keychain"
    })
  })

  it("on macOS falls back to the file when the Keychain holds no login", async () => {
    const home = await newHome()
    const file = await store(path.join(home, ".claude"), login("pro"))
    // No item at all, then an item without claudeAiOauth (only MCP logins).
    const empty = await fakeSecurity(home, [])
    expect(await discover({ HOME: home, USER }, { platform: "darwin", securityPath: empty })).toMatchObject({
      _tag: "Found",
      source: "file",
      path: file
    })
    const other = await newHome()
    await store(path.join(other, ".claude"), login("team"))
    const mcpOnly = await fakeSecurity(other, [
      {
        service: StoreLocation.resolve({ HOME: other, USER }).keychainService,
        password: JSON.stringify({ mcpOAuth: { server: { accessToken: KEYCHAIN_SECRET } } })
      }
    ])
    expect(await discover({ HOME: other, USER }, { platform: "darwin", securityPath: mcpOnly })).toMatchObject({
      _tag: "Found",
      source: "file",
      login: { subscriptionType: "team" }
    })
  })

  it("on macOS without the security tool reads the file", async () => {
    const home = await newHome()
    await store(path.join(home, ".claude"), login("pro"))
    const found = await discover(
      { HOME: home, USER },
      { platform: "darwin", securityPath: path.join(home, "no-such-dir", "security") }
    )
    expect(found).toMatchObject({ _tag: "Found", source: "file", login: { subscriptionType: "pro" } })
  })

  it("names every problem with the file, in fixed words that never quote it", async () => {
    const home = await newHome()
    const dir = path.join(home, ".claude")
    const env = { HOME: home }
    const file = path.join(dir, LoginDiscovery.FILE_NAME)
    const expectNotFound = async (reason: LoginDiscovery.NotFoundReason, detail: string, mode: number | null) =>
      expect(await discover(env)).toEqual({ _tag: "NotFound", path: file, mode, reason, detail })

    await expectNotFound("missing", "the file does not exist", null)

    await mkdir(file, { recursive: true, mode: 0o700 })
    await chmod(file, 0o700)
    await expectNotFound("unreadable", "the path is not a regular file", 0o700)
    await rm(file, { recursive: true })

    // Truncated JSON holding a token: JSON.parse's message would quote it.
    await store(dir, `{"claudeAiOauth":{"accessToken":"${SECRET}","refreshTo`)
    await expectNotFound("not_json", "the file is not valid JSON", 0o600)

    await store(dir, JSON.stringify({ mcpOAuth: { server: { accessToken: SECRET } } }))
    await expectNotFound("no_login", "the file holds no Claude login (no claudeAiOauth; it has mcpOAuth)", 0o600)

    await store(dir, JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }))
    await expectNotFound(
      "no_login",
      "the file holds no Claude login (no claudeAiOauth; it has a, b, c, d, e, …)",
      0o600
    )

    await store(dir, "{}")
    await expectNotFound("no_login", "the file holds no Claude login (it is an empty object)", 0o600)

    await store(dir, JSON.stringify([SECRET]))
    await expectNotFound("malformed", "the file does not hold a JSON object", 0o600)

    await store(dir, JSON.stringify({ claudeAiOauth: { accessToken: SECRET, scopes: SECRET } }))
    await expectNotFound("malformed", "the Claude login in the file is malformed (at claudeAiOauth.scopes)", 0o600)

    await store(dir, `{"claudeAiOauth":{"accessToken":"${SECRET}"},"foreign":${"[".repeat(6_000)}${"]".repeat(6_000)}}`)
    await expectNotFound(
      "too_deep",
      `the file nests deeper than ${Credential.MAX_DOCUMENT_DEPTH} levels; tollgate does not read it, as it could not write it back safely`,
      0o600
    )

    await store(dir, "")
    await truncate(file, Credential.MAX_DOCUMENT_BYTES + 1)
    await expectNotFound(
      "too_large",
      `the file is larger than ${Credential.MAX_DOCUMENT_BYTES / 1024 / 1024} MiB; no Claude Code login is, and tollgate does not read it`,
      0o600
    )

    // The permission bits are reported as they are, loose ones included.
    await store(dir, login("pro"))
    await chmod(file, 0o644)
    expect(await discover(env)).toMatchObject({ _tag: "Found", source: "file", path: file, mode: 0o644 })
  })

  it("reads a store that starts with a UTF-8 byte order mark", async () => {
    const home = await newHome()
    await store(path.join(home, ".claude"), `\uFEFF${login("pro")}`)
    const found = await discover({ HOME: home })
    expect(found).toMatchObject({ _tag: "Found", source: "file", login: { subscriptionType: "pro" } })
    expect(tokenOf(found)).toBe(SECRET)
  })

  it("reads a blanked login (after a refused refresh) as found, with no fingerprint", async () => {
    const home = await newHome()
    await store(
      path.join(home, ".claude"),
      // What Claude Code writes back after invalid_grant (reference, section 3).
      JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0, scopes: ["user:inference"] } })
    )
    const found = await discover({ HOME: home })
    expect(found).toMatchObject({
      _tag: "Found",
      snapshot: { fingerprint: null, expiresAt: 0 },
      login: { fingerprint: null, hasRefreshToken: false, expiresAt: 0 }
    })
    expect(tokenOf(found)).toBe("")
  })
})
