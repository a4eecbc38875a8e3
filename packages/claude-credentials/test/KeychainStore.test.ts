// KeychainStore against a fake `security`: what it writes reads back whole, under the right item,
// and no token ever reaches a command line; and how it decides a Keychain is there at all.
import { describe, expect, it } from "@effect/vitest"
import { readFile, writeFile } from "node:fs/promises"
import * as path from "node:path"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as KeychainStore from "../src/KeychainStore.js"
import {
  decode,
  encode,
  expectNoSecret,
  fullDocument,
  harness,
  locationIn,
  secretsOf,
  tokens
} from "./support/keychain.js"

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
