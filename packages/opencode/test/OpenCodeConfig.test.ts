// OpenCodeConfig on its own: the plugin-list edit keeps every other byte of a JSONC file, and the module
// still loads and edits once esbuild bundles it the way the CLI's build does. `tollgate opencode install`
// itself (which file, --project, the real opencode as the judge) is tested in apps/cli/test/opencodeInstall.test.ts.
import * as Either from "effect/Either"
import { build } from "esbuild"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import * as OpenCodeConfig from "../src/OpenCodeConfig.js"

const parsed = (text: string): OpenCodeConfig.Parsed => ({
  path: "x",
  text,
  config: Either.getOrThrow(OpenCodeConfig.parse(text))
})
const planText = (text: string, spec: string) => Either.getOrThrow(OpenCodeConfig.plan(parsed(text), spec)).text

const SPEC = "file:///new/packages/opencode/dist/tollgate-opencode.js"
describe("OpenCodeConfig.plan: edits only the plugin list, every other byte kept", () => {
  it("adds a plugin key on its own line, after a trailing comment, keeping tabs and CRLF", () => {
    const text = '{\n\t// my model\n\t"model": "anthropic/x", // the best one\n}\n'
    expect(planText(text, SPEC)).toBe(
      `{\n\t// my model\n\t"model": "anthropic/x", // the best one\n\t"plugin": ["${SPEC}"]\n}\n`
    )
    const crlf = '{\r\n  "a": 1 /* one */\r\n}\r\n'
    expect(planText(crlf, SPEC)).toBe(`{\r\n  "a": 1, /* one */\r\n  "plugin": ["${SPEC}"]\r\n}\r\n`)
    expect(planText('{"a":1}', SPEC)).toBe(`{"a":1, "plugin": ["${SPEC}"]}`)
  })

  it("appends to a list, keeps other plugins and their comments; a second plan changes nothing", () => {
    const text =
      '{\n  "plugin": [\n    "opencode-other", // keep me\n    ["file:///x.js", { "a": 1 }] /* and me */\n  ]\n}\n'
    const once = planText(text, SPEC)!
    expect(once).toBe(
      `{\n  "plugin": [\n    "opencode-other", // keep me\n    ["file:///x.js", { "a": 1 }], /* and me */\n    "${SPEC}"\n  ]\n}\n`
    )
    expect(planText(once, SPEC)).toBe(null)
    expect(planText('{ "plugin": [] }', SPEC)).toBe(`{ "plugin": ["${SPEC}"] }`)
  })

  it("points an older tollgate entry at the new bundle (options kept) and drops duplicates", () => {
    const text =
      '{ "plugin": ["a", ["file:///old/tollgate-opencode.js", { "accounts": [] }], "b", "file:///older/tollgate-opencode.js"] }'
    expect(planText(text, SPEC)).toBe(`{ "plugin": ["a", ["${SPEC}", { "accounts": [] }], "b"] }`)
    expect(planText('{ "plugin": ["@tollgate/opencode@0.1.0"] }', SPEC)).toBe(`{ "plugin": ["${SPEC}"] }`)
  })

  it("refuses what opencode cannot read, and a plugin that is not a list", () => {
    expect(OpenCodeConfig.parse('{ "a": 1, // no end\n')).toMatchObject({ _tag: "Left" })
    expect(Either.getLeft(OpenCodeConfig.parse('{\n  "a": ]\n}'))).toEqual(
      expect.objectContaining({ value: expect.stringContaining("line 2, column 8") })
    )
    expect(OpenCodeConfig.parse("[1]")).toMatchObject({ _tag: "Left" })
    expect(OpenCodeConfig.plan(parsed('{ "plugin": "x" }'), SPEC)).toMatchObject({ _tag: "Left" })
  })
})

describe("OpenCodeConfig.planRemove: every tollgate entry out, every other byte kept", () => {
  const removed = (text: string) => Either.getOrThrow(OpenCodeConfig.planRemove(parsed(text))).text
  it("the package (any version) and bundles (any form), with their separators; comments stay with their items", () => {
    expect(removed('{ "plugin": ["a", "@tollgate/opencode", "b"] }')).toBe('{ "plugin": ["a", "b"] }')
    expect(removed('{ "plugin": ["@tollgate/opencode@0.1.0", "b"] }')).toBe('{ "plugin": ["b"] }')
    expect(removed('{ "plugin": ["a", ["file:///x/tollgate-opencode.js", { "x": 1 }]] }')).toBe('{ "plugin": ["a"] }')
    expect(removed('{ "plugin": ["@tollgate/opencode@0.1.0"] }')).toBe('{ "plugin": [] }')
    const text =
      '{\n  // mine\n  "plugin": [\n    "a", // keep\n    "@tollgate/opencode@1.0.0",\n    "file:///x/tollgate-opencode.js" // ours\n  ]\n}\n'
    expect(removed(text)).toBe('{\n  // mine\n  "plugin": [\n    "a" // keep\n  ]\n}\n')
  })
  it("nothing to do without a tollgate entry or a plugin list", () => {
    expect(removed('{ "plugin": ["a", "@tollgate/opencode-other"] }')).toBe(null)
    expect(removed('{ "model": "x" }')).toBe(null)
  })
  it("recognises both forms install writes", () => {
    expect(OpenCodeConfig.isTollgateSpec(OpenCodeConfig.packageSpec("1.2.3"))).toBe(true)
    expect(OpenCodeConfig.isTollgateSpec(SPEC)).toBe(true)
    expect(OpenCodeConfig.isTollgateSpec("@tollgate/opencode-extra")).toBe(false)
  })
})

describe("OpenCodeConfig bundled as the built CLI bundles it", () => {
  // jsonc-parser's UMD entry requires its parts at run time: bundled by esbuild it threw "Cannot find module './impl/format'".
  it("esbuild's bundle of the module loads and edits", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tollgate-cli-jsonc-bundle-"))
    try {
      const outfile = join(dir, "OpenCodeConfig.mjs")
      await build({
        entryPoints: [fileURLToPath(new URL("../src/OpenCodeConfig.ts", import.meta.url))],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        logLevel: "silent"
      })
      const bundled = (await import(pathToFileURL(outfile).href)) as typeof OpenCodeConfig
      const text = '{ // c\n  "a": 1\n}'
      const plan = bundled.plan({ path: "x", text, config: { a: 1 } }, SPEC)
      expect(plan).toMatchObject({ _tag: "Right", right: { text: `{ // c\n  "a": 1,\n  "plugin": ["${SPEC}"]\n}` } })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
