// The daemon's login read goes through the one reader of Claude Code's store
// (Credential.parseDocument), so it agrees with doctor and refresh on odd files.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Credential, type UsagePoller } from "@tollgate/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Login from "../src/Login.js"

const ACCESS = "sk-ant-oat01-DaemonLoginFixture-0123456789"
const homes: Array<string> = []
afterEach(async () => {
  await Promise.all(homes.splice(0).map((home) => rm(home, { recursive: true, force: true })))
})

const readWith = async (text: string) => {
  const home = await mkdtemp(join(tmpdir(), "tollgate-daemon-login-"))
  homes.push(home)
  await mkdir(join(home, ".claude"), { mode: 0o700 })
  await writeFile(join(home, ".claude", ".credentials.json"), text)
  await chmod(join(home, ".claude", ".credentials.json"), 0o600)
  return Effect.runPromise(
    Login.read.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["HOME", home]]))))
  )
}

const document = JSON.stringify({ claudeAiOauth: { accessToken: ACCESS, scopes: ["user:inference", "user:profile"] } })

describe("the daemon's login", () => {
  it("reads a store that starts with a UTF-8 byte order mark", async () => {
    const login = await readWith(`\uFEFF${document}`)
    expect(login && Redacted.value(login.accessToken)).toBe(ACCESS)
    expect(login?.snapshot.fingerprint).toBe(Credential.fingerprint(ACCESS))
  })

  it("is no login for a store nested too deep to write back, without overflowing the stack", async () => {
    const deep = `${"[".repeat(6_000)}${"]".repeat(6_000)}`
    expect(await readWith(`{"claudeAiOauth":{"accessToken":"${ACCESS}"},"foreign":${deep}}`)).toBeNull()
  })

  it("is no login for a blanked login (after a refused refresh), a missing file, or garbage", async () => {
    expect(
      await readWith(
        JSON.stringify({
          claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0, scopes: ["user:inference"] }
        })
      )
    ).toBeNull()
    expect(await readWith(`{"claudeAiOauth":{"accessToken":"${ACCESS}"`)).toBeNull()
    const home = await mkdtemp(join(tmpdir(), "tollgate-daemon-login-"))
    homes.push(home)
    expect(
      await Effect.runPromise(
        Login.read.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["HOME", home]]))))
      )
    ).toBeNull()
    // No HOME at all: a broken environment is no login too, never an error.
    expect(
      await Effect.runPromise(Login.read.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))))
    ).toBeNull()
  })

  it("prefers CLAUDE_CODE_OAUTH_TOKEN, trimmed, as a setup-token", async () => {
    const home = await mkdtemp(join(tmpdir(), "tollgate-daemon-login-"))
    homes.push(home)
    const env = new Map([
      ["HOME", home],
      ["CLAUDE_CODE_OAUTH_TOKEN", ` ${ACCESS}\n`]
    ])
    const login = await Effect.runPromise(Login.read.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env))))
    expect(login && Redacted.value(login.accessToken)).toBe(ACCESS)
    expect(login?.snapshot).toMatchObject({ expiresAt: null, fingerprint: Credential.fingerprint(ACCESS) })
  })
})

// The statusline asks every few hundred ms and each read may run `security`: `cached` rereads only when its TTL has
// passed on the Effect clock, so the test drives that clock instead of waiting.
describe("the daemon's login, remembered for a TTL", () => {
  const T0 = Date.UTC(2026, 11, 5, 9)
  const storeWith = (home: string, accessToken: string) =>
    Effect.promise(() =>
      writeFile(join(home, ".claude", ".credentials.json"), JSON.stringify({ claudeAiOauth: { accessToken } }))
    )
  const tokenOf = (login: Effect.Effect<UsagePoller.Login | null>) =>
    Effect.map(login, (found) => (found === null ? null : Redacted.value(found.accessToken)))

  it.effect("rereads the store only once the TTL has passed, or when the clock has gone back", () =>
    Effect.gen(function* () {
      const home = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "tollgate-daemon-login-")))
      homes.push(home)
      yield* Effect.promise(() => mkdir(join(home, ".claude"), { mode: 0o700 }))
      yield* storeWith(home, `${ACCESS}-first`)
      yield* TestClock.setTime(T0)
      const login = tokenOf(yield* Login.cached(5_000))
      const inHome = <A>(effect: Effect.Effect<A>) =>
        Effect.withConfigProvider(effect, ConfigProvider.fromMap(new Map([["HOME", home]])))

      expect(yield* inHome(login)).toBe(`${ACCESS}-first`)
      yield* storeWith(home, `${ACCESS}-second`)
      yield* TestClock.adjust(4_999)
      expect(yield* inHome(login)).toBe(`${ACCESS}-first`)
      yield* TestClock.adjust(1)
      expect(yield* inHome(login)).toBe(`${ACCESS}-second`)

      // A clock set back (NTP, a resumed laptop) must not pin an old login for as long as the jump.
      yield* storeWith(home, `${ACCESS}-third`)
      yield* TestClock.setTime(T0)
      expect(yield* inHome(login)).toBe(`${ACCESS}-third`)
    })
  )
})
