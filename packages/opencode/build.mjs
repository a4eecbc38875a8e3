// Bundles the plugin into one self-contained, minified ES module, dist/tollgate-opencode.js:
// opencode loads it from a file:// URL under Bun, where nothing outside the file resolves.
// `node build.mjs --analyze` also prints what the bundle is made of (esbuild's metafile).
import { analyzeMetafile, build } from "esbuild"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

/** The esbuild options of the bundle; `outfile` is added by {@link bundle}. */
export const options = {
  entryPoints: [here("./src/plugin.ts")],
  bundle: true,
  // One file: no splitting, so lazily imported modules are inlined (evaluated on first use).
  splitting: false,
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

/** Builds the bundle to `outfile` (default dist/tollgate-opencode.js); resolves to esbuild's result, metafile included. */
export const bundle = (outfile = here("./dist/tollgate-opencode.js")) => build({ ...options, outfile })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await bundle()
  if (process.argv.includes("--analyze")) console.log(await analyzeMetafile(result.metafile, { verbose: false }))
}
