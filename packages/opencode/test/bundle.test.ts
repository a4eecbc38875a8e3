// The built bundle, as build.mjs writes it and opencode loads it: a minified
// ES module whose only export is the default `{ id, server }` plugin object,
// plus the chunks it imports lazily, self-contained together (only node:
// built-ins outside them), importable under Node and under the Bun inside opencode.
// Sizes and import times are the bench's business (`pnpm --filter
// @tollgate/opencode bench -- --only=load`), not a test's.
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { findOpenCodeBinary } from "@tollgate/conformance/OpenCode"
import { describe, expect, it } from "vitest"
import { bundlePluginForFile } from "./support/realOpencode.js"
import { collectOutput, throwawayHomeEnv } from "./support/throwawayHome.js"

const bundled = bundlePluginForFile("tollgate-opencode-bundle-props-")

interface Loaded {
  readonly exports: ReadonlyArray<string>
  readonly defaultKeys: ReadonlyArray<string>
  readonly id: unknown
  readonly server: string
  readonly runtime: string
}

// Imports the bundle in a fresh process with a throwaway HOME, XDG dirs and TMPDIR, and reports its shape.
const load = async (command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const home = await mkdtemp(join(tmpdir(), "tollgate-opencode-bundle-home-"))
  const tmp = join(home, "tmp")
  await mkdir(tmp)
  try {
    const code = [
      `const m = await import(${JSON.stringify(pathToFileURL(bundled.file).href)});`,
      "const d = m.default ?? {};",
      "const runtime = typeof Bun === 'undefined' ? 'node ' + process.version : 'bun ' + Bun.version;",
      "console.log(JSON.stringify({ exports: Object.keys(m), defaultKeys: Object.keys(d).sort(), id: d.id, server: typeof d.server, runtime }));"
    ].join("\n")
    const { stdout, stderr, exit } = await collectOutput(command, [...args, code], {
      ...throwawayHomeEnv(home, tmp),
      ...env
    })
    expect(stderr).toBe("")
    expect(exit).toBe(0)
    // Loading the module touches nothing on disk: the plugin does its work when opencode calls it.
    expect(await readdir(home)).toEqual(["tmp"])
    expect(await readdir(tmp)).toEqual([])
    return JSON.parse(stdout.trim()) as Loaded
  } finally {
    await rm(home, { recursive: true, force: true })
  }
}

const expectPluginShape = (loaded: Loaded) => {
  // Only the default export: older opencode loaders call every exported function.
  expect(loaded.exports).toEqual(["default"])
  expect(loaded.defaultKeys).toEqual(["id", "server"])
  expect(loaded.id).toBe("tollgate")
  expect(loaded.server).toBe("function")
}

describe("the built bundle", () => {
  it("is an entry and its chunks whose only imports outside them are Node built-ins (nothing else resolves under opencode)", async () => {
    expect(await readdir(bundled.dir)).toEqual(["tollgate-opencode.chunks", "tollgate-opencode.js"])
    const chunks = (await readdir(join(bundled.dir, "tollgate-opencode.chunks"))).map((c) =>
      join(bundled.dir, "tollgate-opencode.chunks", c)
    )
    const files = [bundled.file, ...chunks]
    expect(
      Object.keys(bundled.metafile.outputs)
        .map((o) => resolve(o))
        .sort()
    ).toEqual([...files].sort())
    for (const [, output] of Object.entries(bundled.metafile.outputs)) {
      const outside = output.imports.filter((i) =>
        i.external ? !i.path.startsWith("node:") : !files.includes(resolve(i.path))
      )
      expect(outside).toEqual([])
    }
    // The sources agree with the metafile: every static or dynamic specifier left is a node: built-in or a chunk file.
    for (const file of files) {
      const source = await readFile(file, "utf8")
      const specifiers = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)["']([^"']+)["']/g)].map(
        (m) => m[1]!
      )
      const unresolved = specifiers.filter((s) => !s.startsWith("node:") && !files.includes(resolve(dirname(file), s)))
      expect(unresolved).toEqual([])
    }
  })

  it("imports a few KB at load: the entry statically pulls in only tiny chunks; the request path is a lazy chunk", async () => {
    const entry =
      bundled.metafile.outputs[Object.keys(bundled.metafile.outputs).find((o) => resolve(o) === bundled.file)!]!
    const staticBytes =
      entry.bytes +
      entry.imports
        .filter((i) => i.kind === "import-statement" && !i.external)
        .reduce((n, i) => n + bundled.metafile.outputs[i.path]!.bytes, 0)
    // Measured 3.5 KB; the whole request path (Effect and the rest) is over 300 KB.
    expect(staticBytes).toBeLessThan(20_000)
    expect(entry.imports.some((i) => i.kind === "dynamic-import" && /AuthorizedFetch/.test(i.path))).toBe(true)
  })

  it("is minified", async () => {
    for (const file of [
      bundled.file,
      ...(await readdir(join(bundled.dir, "tollgate-opencode.chunks"))).map((c) =>
        join(bundled.dir, "tollgate-opencode.chunks", c)
      )
    ]) {
      const source = await readFile(file, "utf8")
      const lines = source.split("\n")
      // esbuild's minified output breaks lines only where it must (plus the two-line require banner): far longer
      // lines than the ~30 characters of readable output, and no comments.
      if (source.length > 2000) expect(source.length / lines.length).toBeGreaterThan(300)
      expect(source).not.toMatch(/^\s*\/\/ /m)
    }
  })

  it("imports under Node; its only export is the default { id, server } plugin object", async () => {
    const loaded = await load(process.execPath, ["--input-type=module", "-e"])
    expect(loaded.runtime).toMatch(/^node /)
    expectPluginShape(loaded)
  })

  const binary = findOpenCodeBinary()
  // Without an opencode binary there is no Bun to import under; the Node case above still runs.
  it.skipIf(binary === undefined)("imports under the Bun inside the opencode binary, with the same shape", async () => {
    // Bun caches its transpilation of files over 50 KB under XDG_CACHE_HOME/bun; that is Bun's file, not the plugin's.
    const loaded = await load(binary!, ["-e"], { BUN_BE_BUN: "1", BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" })
    expect(loaded.runtime).toMatch(/^bun /)
    expectPluginShape(loaded)
  })
})
