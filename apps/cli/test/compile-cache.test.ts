// The code cache the dispatcher runs every bundle through (src/CompileCache.ts), in real child processes (the
// cache is written at exit) on real files: it must speed up, never fail a command, and never run bytecode that
// is stale, someone else's, or half written.
import { execFile, spawn } from "node:child_process"
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { build } from "esbuild"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { directory } from "../src/CompileCache.js"

const run = promisify(execFile)
let root = ""
let runner = ""

// A bundle with enough functions for V8 to have something to cache, a require() of built-ins (now and in a
// promise, as esbuild turns an import() into), and an answer computed at run time.
const bundle = (answer: string) =>
  [
    `const path = require("node:path")`,
    ...Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x * ${i} + path.sep.length }`),
    `let total = 0`,
    ...Array.from({ length: 200 }, (_, i) => `total += f${i}(2)`),
    `Promise.resolve().then(() => require("node:os")).then((os) => console.log(${JSON.stringify(answer)} + " " + total + " " + typeof os.tmpdir))`,
    ""
  ].join("\n")

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tollgate-compile-cache-"))
  // The module as the dispatcher inlines it: CommonJS, built by esbuild.
  runner = join(root, "runner.cjs")
  await build({
    stdin: {
      contents: [
        `import * as CompileCache from ${JSON.stringify(fileURLToPath(new URL("../src/CompileCache.ts", import.meta.url)))}`,
        `const dir = CompileCache.directory(process.env, process.platform, process.env.HOME)`,
        // VARIANT="" calls load with two arguments, the way a single-command bundle would.
        `const variant = process.env.VARIANT ?? "doctor"`,
        `const { outcome } = variant === "" ? CompileCache.load(process.env.BUNDLE, dir) : CompileCache.load(process.env.BUNDLE, dir, variant)`,
        `process.stderr.write("outcome=" + outcome + "\\n")`
      ].join("\n"),
      resolveDir: root,
      loader: "ts"
    },
    bundle: true,
    platform: "node",
    format: "cjs",
    outfile: runner,
    logLevel: "warning"
  })
}, 60_000)

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

interface Sandbox {
  readonly home: string
  readonly cache: string
  readonly file: string
  readonly env: NodeJS.ProcessEnv
}

let count = 0
const sandbox = (code = bundle("answer")): Sandbox => {
  const home = join(root, `home-${count++}`)
  mkdirSync(home, { recursive: true })
  const file = join(home, "bundle.cjs")
  writeFileSync(file, code)
  const cache = join(home, "cache")
  const env = { PATH: process.env["PATH"], HOME: home, XDG_CACHE_HOME: cache, TMPDIR: home, BUNDLE: file }
  return { home, cache, file, env }
}

const once = async (box: Sandbox, extra: NodeJS.ProcessEnv = {}) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [runner], { env: { ...box.env, ...extra } })
    return { code: 0, stdout: stdout.trim(), outcome: /outcome=(\w+)/.exec(stderr)?.[1], stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout.trim(), outcome: /outcome=(\w+)/.exec(e.stderr)?.[1], stderr: e.stderr }
  }
}

const store = (box: Sandbox) => join(box.cache, "tollgate", "compile")
const caches = (box: Sandbox) => (existsSync(store(box)) ? readdirSync(store(box)).sort() : [])
const EXPECTED = `answer ${Array.from({ length: 200 }, (_, i) => i * 2 + 1).reduce((a, b) => a + b, 0)} function`

describe("CompileCache.load", { timeout: 60_000 }, () => {
  it("misses once, then hits with the same output; the cache is a 0600 file in a 0700 directory", async () => {
    const box = sandbox()
    const first = await once(box)
    expect(first).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "miss" })
    const [name, ...more] = caches(box)
    expect(more).toEqual([])
    expect(name).toMatch(/^bundle\.cjs\.doctor\.[0-9a-f]{16}\.[0-9a-f]{16}\.v8$/)
    expect(statSync(store(box)).mode & 0o777).toBe(0o700)
    expect(statSync(join(store(box), name!)).mode & 0o777).toBe(0o600)
    const second = await once(box)
    expect(second).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "hit" })
    // Nothing experimental (such as vm's USE_MAIN_CONTEXT_DEFAULT_LOADER) warns on a user's every run.
    expect(second.stderr.trim()).toBe("outcome=hit")
  })

  it("works for a caller that passes no command: its own cache file, miss then hit", async () => {
    const box = sandbox()
    expect(await once(box, { VARIANT: "" })).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "miss" })
    expect(caches(box)).toEqual([expect.stringMatching(/^bundle\.cjs\.[0-9a-f]{16}\.[0-9a-f]{16}\.v8$/)])
    expect(await once(box, { VARIANT: "" })).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "hit" })
    // The per-command cache of the same bundle is a file of its own, and neither evicts the other.
    expect(await once(box)).toMatchObject({ outcome: "miss" })
    expect(caches(box)).toHaveLength(2)
    expect(await once(box, { VARIANT: "" })).toMatchObject({ outcome: "hit" })
  })

  it("a corrupted or truncated cache is rejected or ignored, the command still runs, and the next run hits", async () => {
    const box = sandbox()
    await once(box)
    const file = join(store(box), caches(box)[0]!)
    const data = readFileSync(file)
    for (const broken of [Buffer.from(data.map((b, i) => (i > 32 ? b ^ 0x5a : b))), data.subarray(0, 100)]) {
      writeFileSync(file, broken)
      const damaged = await once(box)
      expect(damaged.code).toBe(0)
      expect(damaged.stdout).toBe(EXPECTED)
      expect(damaged.outcome).toBe("rejected")
      expect(await once(box)).toMatchObject({ outcome: "hit", stdout: EXPECTED })
    }
  })

  it("a bundle rebuilt with the same length but other code runs its new code, not the cached one", async () => {
    const box = sandbox(bundle("before"))
    expect((await once(box)).stdout).toMatch(/^before /)
    expect((await once(box)).outcome).toBe("hit")
    const before = statSync(box.file)
    writeFileSync(box.file, bundle("after!"))
    expect(statSync(box.file).size).toBe(before.size)
    // Even with the old modification time put back: the inode differs only if the file is replaced, so keep
    // the same file and rely on mtime, the way a rebuild in place would change it.
    utimesSync(box.file, new Date(), new Date(before.mtimeMs + 5_000))
    const after = await once(box)
    expect(after.stdout).toMatch(/^after! /)
    expect(after.outcome).toBe("miss")
    // The older build's cache is gone once the new one is written.
    expect(caches(box)).toHaveLength(1)
  })

  it("a bundle replaced by one of the same length and the same mtime (a new file) runs its new code", async () => {
    const box = sandbox(bundle("before"))
    // Whole seconds, so the replacement can be given exactly the same mtime.
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000)
    utimesSync(box.file, stamp, stamp)
    await once(box)
    expect((await once(box)).outcome).toBe("hit")
    const before = statSync(box.file)
    const next = `${box.file}.new`
    writeFileSync(next, bundle("after!"))
    utimesSync(next, stamp, stamp)
    renameSync(next, box.file)
    const now = statSync(box.file)
    expect([now.size, now.mtimeMs]).toEqual([before.size, before.mtimeMs])
    expect(now.ino).not.toBe(before.ino)
    const after = await once(box)
    expect(after).toMatchObject({ code: 0, outcome: "miss" })
    expect(after.stdout).toMatch(/^after! /)
  })

  it("two installs of the same bundle name keep a cache each instead of replacing each other's", async () => {
    const box = sandbox()
    const other = join(box.home, "other")
    mkdirSync(other)
    writeFileSync(join(other, "bundle.cjs"), bundle("answer"))
    await once(box)
    await once(box, { BUNDLE: join(other, "bundle.cjs") })
    expect(caches(box)).toHaveLength(2)
    expect((await once(box)).outcome).toBe("hit")
    expect((await once(box, { BUNDLE: join(other, "bundle.cjs") })).outcome).toBe("hit")
  })

  it("keeps one cache per command for the same bundle", async () => {
    const box = sandbox()
    await once(box, { VARIANT: "doctor" })
    await once(box, { VARIANT: "token" })
    expect(caches(box).map((n) => n.split(".")[2])).toEqual(["doctor", "token"])
    expect((await once(box, { VARIANT: "doctor" })).outcome).toBe("hit")
    expect((await once(box, { VARIANT: "token" })).outcome).toBe("hit")
    // A variant that is not a plain word gets no cache file at all.
    expect((await once(box, { VARIANT: "../../x" })).outcome).toBe("off")
    expect(caches(box)).toHaveLength(2)
  })

  it("refuses a symlinked, group-writable or foreign directory: runs without a cache, writes nothing there", async () => {
    const linked = sandbox()
    const elsewhere = join(linked.home, "elsewhere")
    mkdirSync(elsewhere, { mode: 0o700 })
    mkdirSync(join(linked.cache, "tollgate"), { recursive: true })
    symlinkSync(elsewhere, store(linked))
    expect(await once(linked)).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "off" })
    expect(readdirSync(elsewhere)).toEqual([])

    const open = sandbox()
    mkdirSync(store(open), { recursive: true })
    chmodSync(store(open), 0o777)
    expect(await once(open)).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "off" })
    expect(caches(open)).toEqual([])

    if (process.getuid?.() === 0) {
      const foreign = sandbox()
      mkdirSync(store(foreign), { recursive: true, mode: 0o700 })
      chownSync(store(foreign), 65534, 65534)
      expect(await once(foreign)).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "off" })
      expect(caches(foreign)).toEqual([])
    }
  })

  it("a cache directory that cannot be written (or is a file) costs nothing but the cache", async () => {
    const blocked = sandbox()
    mkdirSync(join(blocked.cache, "tollgate"), { recursive: true })
    writeFileSync(store(blocked), "not a directory")
    expect(await once(blocked)).toMatchObject({ code: 0, stdout: EXPECTED, outcome: "off" })

    const readOnly = sandbox()
    mkdirSync(store(readOnly), { recursive: true, mode: 0o700 })
    chmodSync(store(readOnly), 0o500)
    const result = await once(readOnly)
    expect(result).toMatchObject({ code: 0, stdout: EXPECTED })
    expect(result.stderr).not.toMatch(/Error/)
    chmodSync(store(readOnly), 0o700)
  })

  it("8 first runs at once all succeed and leave one cache file and no temp file", async () => {
    const box = sandbox()
    const results = await Promise.all(Array.from({ length: 8 }, () => once(box)))
    for (const r of results) expect(r).toMatchObject({ code: 0, stdout: EXPECTED })
    const names = caches(box)
    expect(names).toHaveLength(1)
    expect(names[0]).toMatch(/\.v8$/)
    expect((await once(box)).outcome).toBe("hit")
  })

  it("removes a temp file left by a process killed mid-write once it is old", async () => {
    const box = sandbox()
    mkdirSync(store(box), { recursive: true, mode: 0o700 })
    // AtomicFile temp names: the cache is written through AtomicFile.writeSync.
    const left = join(store(box), ".some-cache.v8.0123456789abcdef.tmp")
    writeFileSync(left, "half a cache")
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
    utimesSync(left, old, old)
    const fresh = join(store(box), ".some-cache.v8.fedcba9876543210.tmp")
    writeFileSync(fresh, "another process is writing this one")
    await once(box)
    expect(existsSync(left)).toBe(false)
    expect(existsSync(fresh)).toBe(true)
  })

  it("a SIGKILL while the cache is being written never leaves a cache that is used half-written", async () => {
    const box = sandbox()
    // Kill as soon as the process has printed (it writes the cache in its exit handler right after).
    const child = spawn(process.execPath, [runner], { env: box.env, stdio: ["ignore", "pipe", "ignore"] })
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()))
    child.kill("SIGKILL")
    await new Promise((resolve) => child.once("close", resolve))
    for (const name of caches(box).filter((n) => n.endsWith(".v8"))) {
      expect(statSync(join(store(box), name)).size).toBeGreaterThan(0)
    }
    const next = await once(box)
    expect(next).toMatchObject({ code: 0, stdout: EXPECTED })
    expect(["hit", "miss"]).toContain(next.outcome)
  })

  it("TOLLGATE_COMPILE_CACHE=0 turns it off", async () => {
    const box = sandbox()
    expect(await once(box, { TOLLGATE_COMPILE_CACHE: "0" })).toMatchObject({
      code: 0,
      stdout: EXPECTED,
      outcome: "off"
    })
    expect(caches(box)).toEqual([])
  })

  it("an error thrown by the bundle itself propagates", async () => {
    const box = sandbox(`throw new Error("the bundle's own failure")\n`)
    const result = await once(box)
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain("the bundle's own failure")
  })
})

describe("CompileCache.directory", () => {
  it.each([
    [{ XDG_CACHE_HOME: "/x/cache" }, "linux", "/home/u", "/x/cache/tollgate/compile"],
    [{}, "linux", "/home/u", "/home/u/.cache/tollgate/compile"],
    [{}, "darwin", "/Users/u", "/Users/u/Library/Caches/tollgate/compile"],
    [{ XDG_CACHE_HOME: "relative" }, "linux", "/home/u", "/home/u/.cache/tollgate/compile"],
    [{}, "linux", undefined, undefined],
    [{ TOLLGATE_COMPILE_CACHE: "0", XDG_CACHE_HOME: "/x" }, "linux", "/home/u", undefined],
    [{ TOLLGATE_COMPILE_CACHE: "off" }, "linux", "/home/u", undefined],
    [{ TOLLGATE_COMPILE_CACHE: "1" }, "linux", "/home/u", "/home/u/.cache/tollgate/compile"]
  ] as const)("%j on %s with home %s → %s", (env, platform, home, expected) => {
    expect(directory(env, platform, home)).toBe(expected)
  })
})
