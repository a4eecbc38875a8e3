// ConfigFile: another program's config edited without losing it. A link planted at the old predictable temp name
// is not followed, the file's mode is kept and a backup made; a symlinked config is written through; a missing
// file gets its directory and the new-file mode; a failed step says which.
import { mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigFile } from "../src/index.js"
import { scratch } from "./helpers.js"

describe("ConfigFile.read and replace", () => {
  it("a link planted at the old predictable temp name is not followed; the file's mode is kept and a backup made", async () => {
    const root = scratch()
    const dir = join(root, "claude")
    await mkdir(dir, { mode: 0o700 })
    const target = join(dir, "settings.json")
    await writeFile(target, '{"theme":"dark"}\n', { mode: 0o640 })
    const victim = join(root, "victim")
    await writeFile(victim, "root-only\n")
    await symlink(victim, join(dir, `.settings.json.tollgate-${process.pid}.tmp`))
    const found = await ConfigFile.read(target)
    expect(found).toEqual({ target, real: target, exists: true, current: '{"theme":"dark"}\n' })
    const backup = await ConfigFile.replace(found, '{"theme":"dark","statusLine":{}}\n', {
      newFileMode: 0o600,
      now: Date.UTC(2026, 0, 2, 3, 4, 5, 6)
    })
    expect(backup).toBe(`${target}.bak-2026-01-02T03-04-05-006Z`)
    expect(await readFile(victim, "utf8")).toBe("root-only\n")
    expect(await readFile(target, "utf8")).toBe('{"theme":"dark","statusLine":{}}\n')
    expect((await stat(target)).mode & 0o777).toBe(0o640)
    expect(await readFile(backup as string, "utf8")).toBe('{"theme":"dark"}\n')
    expect((await stat(backup as string)).mode & 0o777).toBe(0o640)
    expect((await readdir(dir)).filter((name) => name.startsWith("settings.json.bak-"))).toHaveLength(1)
  })

  it("a symlinked config is written through: the link stays, its target changes", async () => {
    const root = scratch()
    const real = join(root, "dotfiles", "opencode.json")
    await mkdir(join(root, "dotfiles"))
    await writeFile(real, "{}\n", { mode: 0o644 })
    const target = join(root, "opencode.json")
    await symlink(real, target)
    const found = await ConfigFile.read(target)
    expect(found.real).toBe(real)
    await ConfigFile.replace(found, '{"plugin":[]}\n', { newFileMode: 0o600 })
    expect(await readlink(target)).toBe(real)
    expect(await readFile(real, "utf8")).toBe('{"plugin":[]}\n')
    expect((await stat(real)).mode & 0o777).toBe(0o644)
  })

  it("a missing file: read says so, replace creates its directory and gives it the new-file mode, no backup", async () => {
    const root = scratch()
    const target = join(root, "a", "b", "settings.json")
    const found = await ConfigFile.read(target)
    expect(found).toEqual({ target, real: target, exists: false, current: null })
    expect(await ConfigFile.replace(found, "{}\n", { newFileMode: 0o600 })).toBeNull()
    expect(await readFile(target, "utf8")).toBe("{}\n")
    expect((await stat(target)).mode & 0o777).toBe(0o600)
  })

  it("a step that fails throws ConfigFileError naming the step", async () => {
    const root = scratch()
    const target = join(root, "settings.json")
    await mkdir(target) // a directory where the file belongs: it exists but cannot be read as text
    const error = await ConfigFile.read(target).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigFile.ConfigFileError)
    expect(error).toMatchObject({ _tag: "ConfigFileError", step: "read", path: target })
  })
})
