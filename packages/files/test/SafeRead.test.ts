import { execFileSync } from "node:child_process"
import { chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { SafeRead, UnsafePath } from "../src/index.js"
import { isRoot, OTHER_UID, scratch } from "./helpers.js"

const CAP = { maxBytes: 1024 }

const refusalOf = async (path: string, options: SafeRead.ReadOptions = CAP): Promise<UnsafePath.UnsafePath> => {
  const error = await SafeRead.readText(path, options).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(UnsafePath.isUnsafePath(error)).toBe(true)
  let sync: unknown
  try {
    SafeRead.readTextSync(path, options)
  } catch (e) {
    sync = e
  }
  expect((sync as UnsafePath.UnsafePath).reason).toBe((error as UnsafePath.UnsafePath).reason)
  return error as UnsafePath.UnsafePath
}

describe("SafeRead.readText / readTextSync", () => {
  it("reads a regular file", async () => {
    const file = join(scratch(), "daemon.json")
    writeFileSync(file, '{"v":1}\n')
    expect(await SafeRead.readText(file, CAP)).toBe('{"v":1}\n')
    expect(SafeRead.readTextSync(file, CAP)).toBe('{"v":1}\n')
  })

  it("says null for a missing file", async () => {
    const file = join(scratch(), "daemon.json")
    expect(await SafeRead.readText(file, CAP)).toBeNull()
    expect(SafeRead.readTextSync(file, CAP)).toBeNull()
  })

  it("refuses a FIFO at once instead of hanging on it", async () => {
    const fifo = join(scratch(), "daemon.json")
    execFileSync("mkfifo", [fifo])
    const started = Date.now()
    const error = await refusalOf(fifo)
    expect(error.reason).toBe("not_regular")
    expect(error.message).toBe(`${fifo} is not a regular file (a fifo); refusing to read it`)
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it("refuses /dev/zero without reading it", async () => {
    const link = join(scratch(), "daemon.json")
    // A device reached by name (the symlink itself is refused first; see below).
    const error = await refusalOf("/dev/zero")
    expect(error.reason).toBe("not_regular")
    expect(error.kind).toBe("character device")
    symlinkSync("/dev/zero", link)
    expect((await refusalOf(link)).reason).toBe("symlink")
  })

  it("refuses a directory", async () => {
    const dir = join(scratch(), "daemon.json")
    mkdirSync(dir)
    expect((await refusalOf(dir)).kind).toBe("directory")
  })

  it("refuses a symlink, even to a good file", async () => {
    const root = scratch()
    writeFileSync(join(root, "real.json"), "{}")
    symlinkSync(join(root, "real.json"), join(root, "status.json"))
    const error = await refusalOf(join(root, "status.json"))
    expect(error.message).toBe(`${join(root, "status.json")} is a symlink; refusing to follow it`)
  })

  it("enforces the cap: at the cap is read, one byte over is refused", async () => {
    const root = scratch()
    writeFileSync(join(root, "at"), "x".repeat(1024))
    writeFileSync(join(root, "over"), "x".repeat(1025))
    expect((await SafeRead.readText(join(root, "at"), CAP))?.length).toBe(1024)
    const error = await refusalOf(join(root, "over"))
    expect(error.reason).toBe("too_large")
    expect(error.message).toBe(`${join(root, "over")} is larger than 1024 bytes; refusing to read it`)
  })

  // chown to another uid needs root.
  it.runIf(isRoot)("with mustBeOurs, refuses another user's file (and reads it without)", async () => {
    const file = join(scratch(), "status.json")
    writeFileSync(file, "{}")
    chownSync(file, OTHER_UID, OTHER_UID)
    expect(await SafeRead.readText(file, CAP)).toBe("{}")
    const error = await refusalOf(file, { ...CAP, mustBeOurs: true })
    expect(error.reason).toBe("foreign_owner")
    expect(error.message).toBe(`${file} belongs to uid ${OTHER_UID}, not to you (uid 0); refusing to use it`)
  })
})
