import { chmodSync, chownSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { PrivateDirectory, UnsafePath } from "../src/index.js"
import { isRoot, OTHER_UID, scratch, withUmask } from "./helpers.js"

const refusal = async (promise: Promise<unknown>): Promise<UnsafePath.UnsafePath> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(UnsafePath.isUnsafePath(error)).toBe(true)
  return error as UnsafePath.UnsafePath
}

describe("PrivateDirectory.ensure", () => {
  it("creates the directory 0700 exactly under umask 0, parents as mkdir -p", async () => {
    const root = scratch()
    const dir = join(root, "a", "b", "tollgate")
    await withUmask(0, () => PrivateDirectory.ensure(dir))
    expect(lstatSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(root, "a")).mode & 0o777).toBe(0o777)
  })

  it("tightens group and other bits on our own existing directory", async () => {
    const dir = join(scratch(), "tollgate")
    mkdirSync(dir)
    chmodSync(dir, 0o755)
    await PrivateDirectory.ensure(dir)
    expect(lstatSync(dir).mode & 0o777).toBe(0o700)
  })

  it("leaves an existing directory's mode alone with tighten: false (one the user named)", async () => {
    const dir = join(scratch(), "claude")
    mkdirSync(dir)
    chmodSync(dir, 0o755)
    await PrivateDirectory.ensure(dir, { tighten: false })
    expect(lstatSync(dir).mode & 0o777).toBe(0o755)
    const created = join(dir, "new")
    await withUmask(0, () => PrivateDirectory.ensure(created, { tighten: false }))
    expect(lstatSync(created).mode & 0o777).toBe(0o700)
  })

  it("refuses a symlinked directory and creates nothing through it", async () => {
    const root = scratch()
    const elsewhere = join(root, "elsewhere")
    mkdirSync(elsewhere, { mode: 0o755 })
    chmodSync(elsewhere, 0o755)
    symlinkSync(elsewhere, join(root, "tollgate"))
    const error = await refusal(PrivateDirectory.ensure(join(root, "tollgate")))
    expect(error.reason).toBe("symlink")
    expect(error.message).toBe(`${join(root, "tollgate")} is a symlink; refusing to follow it`)
    // Not chmod'ed through the link.
    expect(statSync(elsewhere).mode & 0o777).toBe(0o755)
  })

  it("refuses a dangling symlink and does not create its target", async () => {
    const root = scratch()
    symlinkSync(join(root, "target"), join(root, "tollgate"))
    expect((await refusal(PrivateDirectory.ensure(join(root, "tollgate")))).reason).toBe("symlink")
    expect(lstatSync(join(root, "target"), { throwIfNoEntry: false })).toBeUndefined()
  })

  it("refuses a file where the directory belongs", async () => {
    const root = scratch()
    writeFileSync(join(root, "tollgate"), "")
    const error = await refusal(PrivateDirectory.ensure(join(root, "tollgate")))
    expect(error.reason).toBe("not_directory")
    expect(error.message).toContain("(a file)")
  })

  // chown to another uid needs root; the suite runs as root in CI and here.
  it.runIf(isRoot)("refuses another user's directory, naming the path and the owner in one line", async () => {
    const dir = join(scratch(), "tollgate")
    mkdirSync(dir, { mode: 0o700 })
    chownSync(dir, OTHER_UID, OTHER_UID)
    const error = await refusal(PrivateDirectory.ensure(dir))
    expect(error.reason).toBe("foreign_owner")
    expect(error.ownerUid).toBe(OTHER_UID)
    expect(error.message).toBe(`${dir} belongs to uid ${OTHER_UID}, not to you (uid 0); refusing to use it`)
    expect(error.message).not.toContain("\n")
    // Left as found.
    expect(lstatSync(dir).uid).toBe(OTHER_UID)
  })
})

describe("PrivateDirectory.verify / verifySync", () => {
  it("says false for a missing directory and creates nothing", async () => {
    const dir = join(scratch(), "tollgate")
    expect(await PrivateDirectory.verify(dir)).toBe(false)
    expect(PrivateDirectory.verifySync(dir)).toBe(false)
    expect(lstatSync(dir, { throwIfNoEntry: false })).toBeUndefined()
  })

  it("says true for our own directory", async () => {
    const dir = join(scratch(), "tollgate")
    mkdirSync(dir, { mode: 0o700 })
    expect(await PrivateDirectory.verify(dir)).toBe(true)
    expect(PrivateDirectory.verifySync(dir)).toBe(true)
  })

  it("throws for a symlink", () => {
    const root = scratch()
    symlinkSync(root, join(root, "tollgate"))
    expect(() => PrivateDirectory.verifySync(join(root, "tollgate"))).toThrow(/is a symlink/)
  })

  // chown to another uid needs root.
  it.runIf(isRoot)("throws for another user's directory", async () => {
    const dir = join(scratch(), "tollgate")
    mkdirSync(dir, { mode: 0o700 })
    chownSync(dir, OTHER_UID, OTHER_UID)
    expect(() => PrivateDirectory.verifySync(dir)).toThrow(`belongs to uid ${OTHER_UID}`)
    expect((await refusal(PrivateDirectory.verify(dir))).reason).toBe("foreign_owner")
  })
})
