// Bundles the plugin into one self-contained ES module, dist/tollgate-opencode.js:
// opencode loads it from a file:// URL under Bun, where nothing outside the file resolves.
import { build } from "esbuild"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

/** Builds the bundle to `outfile` (default dist/tollgate-opencode.js). */
export const bundle = (outfile = here("./dist/tollgate-opencode.js")) =>
  build({
    entryPoints: [here("./src/plugin.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    legalComments: "none",
    logLevel: "warning",
    // CommonJS dependencies bundled into ESM still call require(); give them a real one.
    banner: {
      js: [
        'import { createRequire as __tollgateCreateRequire } from "node:module";',
        "const require = __tollgateCreateRequire(import.meta.url);"
      ].join("\n")
    }
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()
