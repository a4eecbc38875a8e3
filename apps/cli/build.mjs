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
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const dist = here("./dist")
const CLI = "./cli.mjs"

/**
 * Builds both files into `outDir` (default `dist/`), replacing what was
 * there, and checks the statusline path; resolves to the dispatcher's path.
 * Tests build into a temp directory with it, to run the CLI as it ships.
 */
export const buildCli = async (outDir = dist) => {
  // Built beside outDir and swapped in at the end: a `tollgate` started meanwhile (an installed statusline,
  // `pnpm tollgate`, `pnpm pack`) runs the old build or the new one, never a half-written or emptied dist/.
  const staging = join(dirname(outDir), `.${basename(outDir)}.building-${process.pid}`)
  await rm(staging, { recursive: true, force: true })
  try {
    await buildInto(staging)
    const old = join(dirname(outDir), `.${basename(outDir)}.old-${process.pid}`)
    await rename(outDir, old).catch((error) => {
      if (error?.code !== "ENOENT") throw error
    })
    await rename(staging, outDir)
    await rm(old, { recursive: true, force: true })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return join(outDir, "tollgate.js")
}

const buildInto = async (outDir) => {
  await mkdir(outDir, { recursive: true })
  await writeFile(join(outDir, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`)

  const common = { bundle: true, platform: "node", target: "node20", legalComments: "none", logLevel: "warning" }

  await build({
    ...common,
    entryPoints: [here("./src/bin.ts")],
    outfile: join(outDir, CLI),
    format: "esm",
    // ES module builds first: jsonc-parser's "main" is a UMD build that require()s its own files at run
    // time, which a single-file bundle does not ship ("Cannot find module './impl/format'").
    mainFields: ["module", "main"],
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
    outfile: join(outDir, "tollgate.js"),
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
  await chmod(join(outDir, "tollgate.js"), 0o755)

  // The statusline path must stay free of Effect and every other dependency.
  const heavy = Object.keys(dispatcher.metafile.inputs).filter((input) => input.includes("node_modules/"))
  if (heavy.length > 0) {
    throw new Error(`build.mjs: tollgate.js pulls in ${heavy.join(", ")}; the statusline hot path must not`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await buildCli()
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(1)
  }
}
