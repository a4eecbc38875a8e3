import { describe, expect, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Credential } from "@tollgate/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { StoreError } from "../src/CredentialStore.js"
import * as Security from "../src/internal/security.js"
import * as KeychainStore from "../src/KeychainStore.js"
import * as StoreLocation from "../src/StoreLocation.js"

const FAKE_SECURITY = fileURLToPath(new URL("./fixtures/security", import.meta.url))

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

interface LogEntry {
  readonly pid: number
  readonly event: "start" | "line"
  readonly argv?: ReadonlyArray<string>
  readonly cmdline?: ReadonlyArray<string>
  readonly line?: string
}

interface Harness {
  readonly dir: string
  readonly storeFile: string
  readonly logFile: string
  /** A `security` for this test only: the fake, with its store and log here and `env` on top. */
  readonly security: (env?: Record<string, string>) => Promise<string>
  readonly log: () => Promise<ReadonlyArray<LogEntry>>
  /** Puts a password straight into the fake Keychain, as another program would have. */
  readonly seed: (service: string, account: string, password: string) => Promise<void>
}

const harness = Effect.acquireRelease(
  Effect.promise(async (): Promise<Harness> => {
    const dir = await mkdtemp(path.join(tmpdir(), "tollgate-keychain-"))
    const storeFile = path.join(dir, "keychain.json")
    const logFile = path.join(dir, "security.log")
    let launchers = 0
    return {
      dir,
      storeFile,
      logFile,
      security: async (env = {}) => {
        const file = path.join(dir, `bin-${launchers++}`, "security")
        await mkdir(path.dirname(file))
        const vars = {
          FAKE_SECURITY_STORE: storeFile,
          FAKE_SECURITY_LOG: logFile,
          FAKE_SECURITY_NODE: process.execPath,
          ...env
        }
        const exports = Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`)
        await writeFile(file, ["#!/bin/sh", ...exports, `exec ${shellQuote(FAKE_SECURITY)} "$@"`, ""].join("\n"))
        await chmod(file, 0o755)
        return file
      },
      log: async () => {
        const text = await readFile(logFile, "utf8").catch(() => "")
        // Read while the fake may be appending: a line still being written is skipped.
        return text.split("\n").flatMap((l) => {
          try {
            return [JSON.parse(l) as LogEntry]
          } catch {
            return []
          }
        })
      },
      seed: (service, account, password) =>
        writeFile(
          storeFile,
          JSON.stringify({ items: [{ service, account, hex: Buffer.from(password, "utf8").toString("hex") }] })
        )
    }
  }),
  (h) => Effect.promise(() => rm(h.dir, { recursive: true, force: true }))
)

const tokens = () => ({
  access: `sk-ant-oat01-${randomBytes(24).toString("base64url")}`,
  refresh: `sk-ant-ort01-${randomBytes(24).toString("base64url")}`
})

type Tokens = ReturnType<typeof tokens>

const fullDocument = (t: Tokens, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  claudeAiOauth: {
    accessToken: t.access,
    refreshToken: t.refresh,
    expiresAt: 1_900_000_000_000,
    scopes: ["user:inference", "user:profile", "user:sessions:claude_code"],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x",
    refreshTokenExpiresAt: 1_902_000_000_000,
    subscriptionTypeSource: "profile",
    accountUuid: "0b7a6c1e-1111-4222-8333-944455556666",
    organizationUuid: "1c8b7d2f-1111-4222-8333-944455556666",
    clientId: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
    someFutureField: { nested: [1, "two", null, true] },
    ...extra
  },
  mcpOAuth: { "github|abc": { serverName: "github", accessToken: "mcp-token-not-ours", expiresAt: 1 } },
  mcpOAuthClientConfig: { github: { clientId: "x" } },
  pluginSecrets: { demo: "kept" },
  aFutureTopLevelKey: true
})

const decode = Schema.decodeUnknownSync(Credential.Document)
const encode = Schema.encodeSync(Credential.Document)

const locationIn = (dir: string, env: Partial<StoreLocation.Environment> = {}) =>
  StoreLocation.resolve({ HOME: dir, USER: "jane doe", ...env })

const secretsOf = (t: Tokens) => {
  const hex = (s: string) => Buffer.from(s, "utf8").toString("hex")
  return [t.access, t.refresh, hex(t.access), hex(t.refresh), hex(t.access).toUpperCase(), hex(t.refresh).toUpperCase()]
}

const expectNoSecret = (text: string, t: Tokens) => {
  for (const secret of secretsOf(t)) expect(text).not.toContain(secret)
}

const storeError = (error: StoreError) => ({
  backend: error.backend,
  operation: error.operation,
  reason: error.reason
})

describe("KeychainStore against a fake `security`", () => {
  it.scopedLive("round-trips a whole document under the default service name, which has a space", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const location = locationIn(h.dir)
      expect(location.keychainService).toBe("Claude Code-credentials")
      const store = KeychainStore.make(location, { securityPath: yield* Effect.promise(() => h.security()) })
      expect(store.backend).toBe("keychain")
      const original = fullDocument(tokens())
      yield* store.write(decode(original))
      const read = yield* store.read
      expect(Option.map(read, encode)).toEqual(Option.some(original))
      const items = JSON.parse(yield* Effect.promise(() => readFile(h.storeFile, "utf8"))).items
      expect(items.map((i: { service: string; account: string }) => [i.service, i.account])).toEqual([
        ["Claude Code-credentials", "jane doe"]
      ])
    })
  )

  it.scopedLive("round-trips under the CLAUDE_CONFIG_DIR-suffixed service name, apart from the default item", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const securityPath = yield* Effect.promise(() => h.security())
      const suffixed = locationIn(h.dir, { CLAUDE_CONFIG_DIR: path.join(h.dir, "profile two") })
      expect(suffixed.keychainService).toMatch(/^Claude Code-credentials-[0-9a-f]{8}$/)
      const original = fullDocument(tokens())
      yield* KeychainStore.make(suffixed, { securityPath }).write(decode(original))
      expect(Option.map(yield* KeychainStore.make(suffixed, { securityPath }).read, encode)).toEqual(
        Option.some(original)
      )
      expect(yield* KeychainStore.make(locationIn(h.dir), { securityPath }).read).toEqual(Option.none())
    })
  )

  it.scopedLive("quotes service and account names with quotes, backslashes and spaces for security -i's parser", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const location = { ...locationIn(h.dir), keychainService: `we'ird "svc" \\ name`, keychainAccount: `o"brien\\` }
      const store = KeychainStore.make(location, { securityPath: yield* Effect.promise(() => h.security()) })
      const original = fullDocument(tokens())
      yield* store.write(decode(original))
      expect(Option.map(yield* store.read, encode)).toEqual(Option.some(original))
      const items = JSON.parse(yield* Effect.promise(() => readFile(h.storeFile, "utf8"))).items
      expect(items.map((i: { service: string; account: string }) => [i.service, i.account])).toEqual([
        [`we'ird "svc" \\ name`, `o"brien\\`]
      ])
    })
  )

  it.scopedLive("reads back a document with non-ASCII text, which security prints as hex", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), { securityPath: yield* Effect.promise(() => h.security()) })
      const original = fullDocument(tokens(), { displayName: "Zoë Müller 🚀", note: "line\nbreak" })
      yield* store.write(decode(original))
      expect(Option.map(yield* store.read, encode)).toEqual(Option.some(original))
    })
  )

  it.scopedLive("replaces an existing item (-U) and keeps one item", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const store = KeychainStore.make(locationIn(h.dir), { securityPath: yield* Effect.promise(() => h.security()) })
      yield* store.write(decode(fullDocument(tokens())))
      const second = fullDocument(tokens())
      yield* store.write(decode(second))
      expect(Option.map(yield* store.read, encode)).toEqual(Option.some(second))
      expect(JSON.parse(yield* Effect.promise(() => readFile(h.storeFile, "utf8"))).items).toHaveLength(1)
    })
  )

  it.scopedLive("an item that does not exist reads as None", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const securityPath = yield* Effect.promise(() => h.security())
      expect(yield* KeychainStore.make(locationIn(h.dir), { securityPath }).read).toEqual(Option.none())
      yield* Effect.promise(() =>
        h.seed("Claude Code-credentials", "someone else", JSON.stringify(fullDocument(tokens())))
      )
      expect(yield* KeychainStore.make(locationIn(h.dir), { securityPath }).read).toEqual(Option.none())
    })
  )

  it.scopedLive(
    "never puts a token on a command line: not in argv, not in /proc/<pid>/cmdline, not while running",
    () =>
      Effect.gen(function* () {
        const h = yield* harness
        const t = tokens()
        // Each fake run sleeps after reading its command, so the parent can look at the live process.
        const store = KeychainStore.make(locationIn(h.dir), {
          securityPath: yield* Effect.promise(() => h.security({ FAKE_SECURITY_DELAY_MS: "300" }))
        })
        const done = { value: false }
        const writing = yield* store
          .write(decode(fullDocument(t)))
          .pipe(Effect.ensuring(Effect.sync(() => (done.value = true))), Effect.fork)
        const observed: Array<{ pid: number; cmdline: string; environ: string }> = []
        yield* Effect.promise(async () => {
          const inspected = new Set<number>()
          for (let last = false; !last; ) {
            last = done.value
            for (const entry of await h.log()) {
              if (entry.event !== "start" || inspected.has(entry.pid)) continue
              const [cmdline, environ] = await Promise.all([
                readFile(`/proc/${entry.pid}/cmdline`, "latin1").catch(() => ""),
                readFile(`/proc/${entry.pid}/environ`, "latin1").catch(() => "")
              ])
              if (!cmdline.includes("fake-security.mjs")) continue // not started yet, or gone
              inspected.add(entry.pid)
              observed.push({ pid: entry.pid, cmdline, environ })
            }
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        })
        yield* Fiber.join(writing)
        yield* store.read

        expect(observed.length).toBeGreaterThanOrEqual(1)
        for (const live of observed) {
          expectNoSecret(live.cmdline, t)
          expectNoSecret(live.environ, t)
        }
        const log = yield* Effect.promise(() => h.log())
        const starts = log.filter((e) => e.event === "start")
        expect(starts.length).toBe(3) // add, the read-back, the read
        for (const start of starts) {
          expect(start.argv?.slice(2)).toEqual(["-i"])
          expectNoSecret(JSON.stringify(start.argv), t)
          expectNoSecret(JSON.stringify(start.cmdline), t)
        }
        // The positive control: the tokens did travel, as hex on stdin.
        const lines = log.filter((e) => e.event === "line").map((e) => e.line ?? "")
        expect(lines.filter((l) => l.startsWith("add-generic-password ")).join("\n")).toContain(secretsOf(t)[2])
      })
  )

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

describe("KeychainStore.isAvailable", () => {
  it.scopedLive("is false for a path that does not exist and true for an executable", () =>
    Effect.gen(function* () {
      const h = yield* harness
      expect(yield* KeychainStore.isAvailable({ securityPath: path.join(h.dir, "nowhere", "security") })).toBe(false)
      expect(yield* KeychainStore.isAvailable({ securityPath: yield* Effect.promise(() => h.security()) })).toBe(true)
      const plain = path.join(h.dir, "not-executable")
      yield* Effect.promise(() => writeFile(plain, "#!/bin/sh\n"))
      expect(yield* KeychainStore.isAvailable({ securityPath: plain })).toBe(false)
      expect(yield* KeychainStore.isAvailable({ securityPath: h.dir })).toBe(false)
    })
  )

  it.scopedLive("looks a bare name up on PATH", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const bin = path.dirname(yield* Effect.promise(() => h.security()))
      const withPath = (value: string) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PATH", value]])))
      expect(
        yield* KeychainStore.isAvailable().pipe(withPath(`${path.join(h.dir, "empty")}${path.delimiter}${bin}`))
      ).toBe(true)
      expect(yield* KeychainStore.isAvailable().pipe(withPath(path.join(h.dir, "empty")))).toBe(false)
      expect(yield* KeychainStore.isAvailable().pipe(withPath(""))).toBe(false)
      // A relative PATH entry is ignored rather than resolved against the working directory.
      expect(yield* KeychainStore.isAvailable().pipe(withPath(path.relative(process.cwd(), bin)))).toBe(false)
    })
  )
})

describe("the security -i line", () => {
  it("quotes for split_line and refuses what a line cannot carry", () => {
    expect(Security.quote(`Claude Code-credentials`)).toEqual(Option.some(`"Claude Code-credentials"`))
    expect(Security.quote(`a"b\\c`)).toEqual(Option.some(`"a\\"b\\\\c"`))
    expect(Security.quote("a\nb")).toEqual(Option.none())
    expect(Security.quote("a\0b")).toEqual(Option.none())
    expect(Security.commandLine([{ word: "find-generic-password" }, { word: "-a" }, { value: "x y" }])).toEqual(
      Either.right(`find-generic-password -a "x y"\n`)
    )
    expect(Security.commandLine([{ word: "x".repeat(Security.MAX_LINE_BYTES) }])).toEqual(
      Either.left({ _tag: "TooLong", bytes: Security.MAX_LINE_BYTES + 1 })
    )
  })

  it("decodes find-generic-password -w output, raw or hex", () => {
    const json = '{"a":"Zoë"}'
    const hex = Buffer.from(json, "utf8").toString("hex")
    expect(Security.decodePassword(Buffer.from(`${json}\n`))).toBe(`${json}\n`)
    expect(Security.decodePassword(Buffer.from(`${hex}\n`))).toBe(json)
    expect(Security.decodePassword(Buffer.from(`${hex.toUpperCase()}\n`))).toBe(json)
    // Hex that is not a JSON object is left as it is, for the parser to reject.
    expect(Security.decodePassword(Buffer.from("deadbeef\n"))).toBe("deadbeef\n")
    expect(Security.decodePassword(Buffer.from("c3\n"))).toBe("c3\n")
  })

  it("describes exits by status only", () => {
    expect(Security.describeExit({ code: 51, signal: null })).toBe("security exit status 51 (errSecAuthFailed)")
    expect(Security.describeExit({ code: 3, signal: null })).toBe("security exit status 3")
    expect(Security.describeExit({ code: null, signal: "SIGKILL" })).toBe("security was killed by SIGKILL")
  })
})
