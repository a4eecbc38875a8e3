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
import { isRoot, OTHER_UID, scratch, withUmask } from "./helpers.js"

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

describe("AtomicFile.write", () => {
  it("writes a new file 0600 exactly under umask 0, leaving no temp file", async () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    await withUmask(0, () => AtomicFile.write(target, "{}\n"))
    expect(readFileSync(target, "utf8")).toBe("{}\n")
    expect(statSync(target).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(["state.json"])
  })

  it("sets the given mode exactly, whatever the umask", async () => {
    const target = join(scratch(), "unit.service")
    await withUmask(0o077, () => AtomicFile.write(target, "x", { mode: 0o644, durable: false }))
    expect(statSync(target).mode & 0o777).toBe(0o644)
  })

  it("replaces an existing file whole", async () => {
    const target = join(scratch(), "state.json")
    writeFileSync(target, "a much longer old content\n")
    await AtomicFile.write(target, "new\n")
    expect(readFileSync(target, "utf8")).toBe("new\n")
  })

  it("replaces a symlink planted at the target instead of writing through it", async () => {
    const dir = scratch()
    const victim = join(dir, "victim")
    writeFileSync(victim, "root-only\n", { mode: 0o600 })
    const target = join(dir, "refresh.json")
    symlinkSync(victim, target)
    await AtomicFile.write(target, "ours\n")
    expect(readFileSync(victim, "utf8")).toBe("root-only\n")
    expect(lstatSync(target).isFile()).toBe(true)
    expect(readFileSync(target, "utf8")).toBe("ours\n")
  })

  it("never follows a symlink planted at a temp name", async () => {
    const dir = scratch()
    const victim = join(dir, "victim")
    writeFileSync(victim, "root-only\n")
    const target = join(dir, "refresh.json")
    // Every name a predictable writer could use, and the next name this one will pick.
    const planted = join(dir, ".refresh.json.0000000000000000.tmp")
    for (const name of [`${target}.${process.pid}.tmp`, `${target}.tmp`, planted]) symlinkSync(victim, name)
    // Only the first random name collides with the planted link; the writer must pick another.
    random.next = (n) => Buffer.alloc(n)
    await AtomicFile.write(target, "ours\n")
    expect(random.next).toBeUndefined()
    expect(readFileSync(victim, "utf8")).toBe("root-only\n")
    expect(readFileSync(target, "utf8")).toBe("ours\n")
    expect(readlinkSync(planted)).toBe(victim)
  })

  it("removes the temp file when the rename fails (target is a directory)", async () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    mkdirSync(target)
    writeFileSync(join(target, "keep"), "")
    await expect(AtomicFile.write(target, "x")).rejects.toMatchObject({
      code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/)
    })
    expect(readdirSync(dir)).toEqual(["state.json"])
  })

  it("rejects and leaves nothing when the directory is missing", async () => {
    const dir = scratch()
    await expect(AtomicFile.write(join(dir, "missing", "state.json"), "x")).rejects.toMatchObject({ code: "ENOENT" })
    expect(readdirSync(dir)).toEqual([])
  })

  // fchown to another uid needs root.
  it.runIf(isRoot)("gives the file the owner and group it is told to", async () => {
    const target = join(scratch(), ".credentials.json")
    await AtomicFile.write(target, "{}", { uid: OTHER_UID, gid: OTHER_UID + 1 })
    const st = statSync(target)
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([OTHER_UID, OTHER_UID + 1, 0o600])
  })
})

describe("AtomicFile.prepare", () => {
  it("fills a temp file first and puts the last write in place on commit", async () => {
    const dir = scratch()
    const target = join(dir, ".credentials.json")
    writeFileSync(target, "old")
    const prepared = await AtomicFile.prepare(target, { mode: 0o600 })
    expect(prepared.path.startsWith(join(dir, ".credentials.json."))).toBe(true)
    await prepared.write("placeholder placeholder placeholder")
    expect(readFileSync(target, "utf8")).toBe("old")
    await prepared.write("patched")
    await prepared.commit()
    await prepared.discard()
    expect(readFileSync(target, "utf8")).toBe("patched")
    expect(readdirSync(dir)).toEqual([".credentials.json"])
  })

  it("writeAndCommitSync puts shorter bytes in place over a longer preparation, synchronously; discard then only closes", async () => {
    const dir = scratch()
    const target = join(dir, ".credentials.json")
    writeFileSync(target, "old")
    const prepared = await AtomicFile.prepare(target, { mode: 0o600 })
    await prepared.write("a placeholder longer than what follows")
    prepared.writeAndCommitSync("final")
    // In place before any await: nothing between the write and the rename yields to the event loop.
    expect(readFileSync(target, "utf8")).toBe("final")
    expect(statSync(target).mode & 0o777).toBe(0o600)
    await prepared.discard()
    expect(readFileSync(target, "utf8")).toBe("final")
    expect(readdirSync(dir)).toEqual([".credentials.json"])
    expect(() => prepared.writeAndCommitSync("again")).toThrow(/already committed/)
  })

  it("writeAndCommitSync(null) renames what was prepared as it is", async () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    const prepared = await AtomicFile.prepare(target)
    await prepared.write("prepared")
    prepared.writeAndCommitSync(null)
    await prepared.discard()
    expect(readFileSync(target, "utf8")).toBe("prepared")
  })

  it("discard removes the temp file and leaves the target alone", async () => {
    const dir = scratch()
    const target = join(dir, "state.json")
    writeFileSync(target, "old")
    const prepared = await AtomicFile.prepare(target)
    await prepared.write("new")
    await prepared.discard()
    await prepared.discard()
    expect(readFileSync(target, "utf8")).toBe("old")
    expect(readdirSync(dir)).toEqual(["state.json"])
    await expect(prepared.write("again")).rejects.toThrow(/already discarded/)
  })
})

describe("AtomicFile.create", () => {
  it("writes a new file whole, 0600", async () => {
    const dir = scratch()
    const target = join(dir, ".credentials.json")
    await withUmask(0, () => AtomicFile.create(target, "{}"))
    expect(readFileSync(target, "utf8")).toBe("{}")
    expect(statSync(target).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual([".credentials.json"])
  })

  it("refuses (EEXIST) a dangling symlink at the target and never creates its target", async () => {
    const dir = scratch()
    const target = join(dir, ".credentials.json")
    symlinkSync(join(dir, "elsewhere"), target)
    await expect(AtomicFile.create(target, "{}")).rejects.toMatchObject({ code: "EEXIST" })
    expect(readlinkSync(target)).toBe(join(dir, "elsewhere"))
    expect(readdirSync(dir)).toEqual([".credentials.json"])
  })

  it("refuses (EEXIST) an existing file and leaves it as it was", async () => {
    const dir = scratch()
    const target = join(dir, ".credentials.json")
    writeFileSync(target, "theirs")
    await expect(AtomicFile.create(target, "ours")).rejects.toMatchObject({ code: "EEXIST" })
    expect(readFileSync(target, "utf8")).toBe("theirs")
    expect(readdirSync(dir)).toEqual([".credentials.json"])
  })
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
