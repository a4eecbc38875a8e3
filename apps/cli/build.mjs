// Bundles the CLI into one self-contained ESM file: workspace packages,
// effect and everything else included, so `dist/tollgate.js` runs with Node
// alone.
import { build } from "esbuild"
import { chmod } from "node:fs/promises"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const outfile = here("./dist/tollgate.js")

await build({
  entryPoints: [here("./src/bin.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // CommonJS dependencies bundled into ESM still call require("buffer") and
  // friends; without a real require the bundle throws "Dynamic require of
  // … is not supported" at start-up.
  banner: {
    js: [
      "#!/usr/bin/env node",
      'import { createRequire as __tollgateCreateRequire } from "node:module";',
      "const require = __tollgateCreateRequire(import.meta.url);"
    ].join("\n")
  },
  legalComments: "none",
  logLevel: "warning"
})

await chmod(outfile, 0o755)
