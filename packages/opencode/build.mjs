// Bundles the plugin into a minified ES module, dist/tollgate-opencode.js, that opencode loads from a
// file:// URL under Bun, plus the chunks it imports lazily (dist/tollgate-opencode.chunks/): importing the
// plugin evaluates a few KB; the request path, the login flows and the status table (Effect and the rest)
// load on first use. Nothing outside these files resolves under opencode: only node: built-ins stay external.
// `node build.mjs --analyze` also prints what the bundle is made of (esbuild's metafile).
import { analyzeMetafile, build } from "esbuild"
import { rm } from "node:fs/promises"
import { basename, dirname, extname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

/** The esbuild options of the bundle; the output names are added by {@link bundle}. */
export const options = {
  entryPoints: [here("./src/plugin.ts")],
  bundle: true,
  // The plugin's dynamic import()s become chunks loaded on first use, so importing the entry stays cheap.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  treeShaking: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // CommonJS dependencies bundled into ESM still call require(); give them a real one.
  banner: {
    js: [
      'import { createRequire as __tollgateCreateRequire } from "node:module";',
      "const require = __tollgateCreateRequire(import.meta.url);"
    ].join("\n")
  }
}

/** Where `node build.mjs` writes the bundle: what opencode loads, and what `tollgate opencode install --from-checkout` names. */
export const OUTFILE = here("./dist/tollgate-opencode.js")

/**
 * Builds the entry to `outfile` (default {@link OUTFILE}) and its chunks to `<outfile minus .js>.chunks/`
 * beside it (the previous build's chunks removed first); resolves to esbuild's result, metafile included.
 */
export const bundle = async (outfile = OUTFILE) => {
  const name = basename(outfile, extname(outfile))
  // Chunk names carry a content hash: drop the previous build's so no stale chunk ships.
  await rm(join(dirname(outfile), `${name}.chunks`), { recursive: true, force: true })
  return build({
    ...options,
    outdir: dirname(outfile),
    entryNames: name,
    chunkNames: `${name}.chunks/[name]-[hash]`,
    outExtension: { ".js": extname(outfile) || ".js" }
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await bundle()
  if (process.argv.includes("--analyze")) console.log(await analyzeMetafile(result.metafile, { verbose: false }))
}
