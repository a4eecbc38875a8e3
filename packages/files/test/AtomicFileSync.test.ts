import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { AtomicFile } from "../src/index.js"
import { scratch, withUmask } from "./helpers.js"

// The real randomBytes, spied on so one test can make the next temp name collide with a planted link.
const random = vi.hoisted(() => ({ next: undefined as ((n: number) => Buffer) | undefined }))
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>()
  return {
    ...crypto,
    randomBytes: (n: number) => {
      const next = random.next
      random.next = undefined
      return next ? next(n) : crypto.randomBytes(n)
    }
  }
})

describe("AtomicFile.writeSync", () => {
  it("writes 0600 exactly under umask 0 and replaces an existing file whole, leaving no temp file", async () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    writeFileSync(target, "a much longer old content\n", { mode: 0o644 })
    await withUmask(0, async () => AtomicFile.writeSync(target, "{}\n"))
    expect(readFileSync(target, "utf8")).toBe("{}\n")
    expect(statSync(target).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(["state.json"])
  })

  it("sets the given mode, and writes bytes as given when not durable", () => {
    const target = join(scratch(), "cache.bin")
    AtomicFile.writeSync(target, Uint8Array.of(0, 1, 2, 255), { mode: 0o640, durable: false })
    expect([...readFileSync(target)]).toEqual([0, 1, 2, 255])
    expect(statSync(target).mode & 0o777).toBe(0o640)
  })

  it("replaces a symlink at the target and never follows one planted at its next temp name", () => {
    const dir = scratch()
    const victim = join(dir, "victim")
    writeFileSync(victim, "root-only\n")
    const target = join(dir, "refresh.json")
    symlinkSync(victim, target)
    const planted = join(dir, ".refresh.json.0000000000000000.tmp")
    symlinkSync(victim, planted)
    random.next = (n) => Buffer.alloc(n)
    AtomicFile.writeSync(target, "ours\n")
    expect(random.next).toBeUndefined()
    expect(readFileSync(victim, "utf8")).toBe("root-only\n")
    expect(lstatSync(target).isFile()).toBe(true)
    expect(readFileSync(target, "utf8")).toBe("ours\n")
    expect(readlinkSync(planted)).toBe(victim)
  })

  it("throws what the rename threw and removes its temp file (target is a directory)", () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    mkdirSync(target)
    writeFileSync(join(target, "keep"), "")
    expect(() => AtomicFile.writeSync(target, "x")).toThrow(expect.objectContaining({ code: expect.any(String) }))
    expect(readdirSync(dir)).toEqual(["state.json"])
  })

  it("throws ENOENT and leaves nothing when the directory is missing", () => {
    const dir = scratch()
    expect(() => AtomicFile.writeSync(join(dir, "missing", "state.json"), "x")).toThrow(
      expect.objectContaining({ code: "ENOENT" })
    )
    expect(readdirSync(dir)).toEqual([])
  })
})

describe("AtomicFile.sweepTempsSync and isTempName", () => {
  it("removes exactly the temp files of the target, files only, and counts them", () => {
    const dir = scratch()
    const target = join(dir, "accounts.json")
    const ours = [AtomicFile.tempPathFor(target), AtomicFile.tempPathFor(target)]
    for (const path of ours) writeFileSync(path, "partial")
    const kept = [
      "accounts.json",
      ".other.json.0123456789abcdef.tmp",
      ".accounts.json.notrandom.tmp",
      ".accounts.json.0123456789abcdef.tmp.bak"
    ]
    for (const name of kept) writeFileSync(join(dir, name), "")
    mkdirSync(join(dir, ".accounts.json.fedcba9876543210.tmp"))
    expect(AtomicFile.sweepTempsSync(target)).toBe(2)
    expect(readdirSync(dir).sort()).toEqual([...kept, ".accounts.json.fedcba9876543210.tmp"].sort())
  })

  it("answers 0 for a directory that is not there", () => {
    expect(AtomicFile.sweepTempsSync(join(scratch(), "missing", "x.json"))).toBe(0)
  })

  it("recognises temp names of one target or of any", () => {
    const name = AtomicFile.tempPathFor("/d/state.json").slice("/d/".length)
    expect(AtomicFile.isTempName(name, "/d/state.json")).toBe(true)
    expect(AtomicFile.isTempName(name, "/d/other.json")).toBe(false)
    expect(AtomicFile.isTempName(name)).toBe(true)
    expect(AtomicFile.isTempName(".tmp-123-abc")).toBe(false)
    expect(AtomicFile.isTempName("state.json")).toBe(false)
  })
})
