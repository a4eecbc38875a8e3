// Builds the `tollgate` executable into dist/ as two files:
//
// - dist/tollgate.js: the dispatcher (src/main.ts) with the statusline client
//   inlined, as CommonJS (dist/package.json marks dist/ as CommonJS). This is
//   what Claude Code runs on every render; on Node 20 an ES-module entry alone
//   costs ~0.2-0.3 × `node -e 0` more start-up than CommonJS, which would
//   break the statusline's ≤ 1.3 × budget (`pnpm --filter @tollgate/daemon bench`).
// - dist/cli.mjs: the full CLI (src/bin.ts) as one self-contained ES module —
//   workspace packages, effect and everything else included — loaded by the
//   dispatcher with import() for every other command.
import { build } from "esbuild"
import { chmod, mkdir, rm, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const dist = here("./dist")
const CLI = "./cli.mjs"

// Stale files from an earlier build would otherwise linger in dist/.
await rm(dist, { recursive: true, force: true })
await mkdir(dist, { recursive: true })
await writeFile(here("./dist/package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`)

const common = { bundle: true, platform: "node", target: "node20", legalComments: "none", logLevel: "warning" }

await build({
  ...common,
  entryPoints: [here("./src/bin.ts")],
  outfile: here(`./dist/${CLI}`),
  format: "esm",
  // CommonJS dependencies bundled into ESM still call require("buffer") and
  // friends; without a real require the bundle throws "Dynamic require of
  // … is not supported" at start-up.
  banner: {
    js: [
      'import { createRequire as __tollgateCreateRequire } from "node:module";',
      "const require = __tollgateCreateRequire(import.meta.url);"
    ].join("\n")
  }
})

const dispatcher = await build({
  ...common,
  entryPoints: [here("./src/main.ts")],
  outfile: here("./dist/tollgate.js"),
  format: "cjs",
  banner: { js: "#!/usr/bin/env node" },
  metafile: true,
  plugins: [
    {
      name: "full-cli-stays-separate",
      setup(b) {
        // The dispatcher's import("./bin.js") is the CLI bundle above, loaded at run time.
        b.onResolve({ filter: /^\.\/bin\.js$/ }, () => ({ path: CLI, external: true }))
      }
    }
  ]
})
await chmod(here("./dist/tollgate.js"), 0o755)

// The statusline path must stay free of Effect and every other dependency.
const heavy = Object.keys(dispatcher.metafile.inputs).filter((input) => input.includes("node_modules/"))
if (heavy.length > 0) {
  console.error(`build.mjs: dist/tollgate.js pulls in ${heavy.join(", ")}; the statusline hot path must not`)
  process.exit(1)
}
