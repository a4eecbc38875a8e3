// Builds the `tollgate` executable into dist/:
//
// - dist/tollgate.js: the dispatcher (src/main.ts) with the statusline client
//   inlined, as CommonJS (dist/package.json marks dist/ as CommonJS). This is
//   what Claude Code runs on every render; on Node 20 an ES-module entry alone
//   costs ~0.2-0.3 × `node -e 0` more start-up than CommonJS, which would
//   break the statusline's ≤ 1.3 × budget (`pnpm --filter @tollgate/daemon bench`).
//   For every other command it picks a bundle below (src/Bundles.ts) and runs it
//   through a V8 code cache (src/CompileCache.ts); for `tollgate --help` it
//   prints dist/cli/help.txt, captured from index.cjs at build time.
// - dist/cli/index.cjs: the CLI (src/bin.ts), every command's definition and,
//   behind import(), every command's handler (src/handlers/<command>.ts and
//   what it imports), so each command initialises only its own code.
// - dist/cli/daemon-run.cjs: `tollgate daemon run` alone (src/daemonRun.ts, ENTRIES
//   below), what the installed service runs: the long-lived daemon holds no CLI.
// - dist/cli/<command>.cjs for the commands other runtimes and users run most
//   (SLIM below): the same CLI with that one command's handler, so its start
//   does not read and load the others' code either.
//
// Every bundle is self-contained, minified CommonJS (workspace packages,
// effect and everything else included), so the dispatcher can run it through
// a V8 code cache; one 2.9 MB ES module for every command made each start
// ~8× `node -e 0` (`cd apps/cli && pnpm bench`). The slim bundles duplicate
// effect and @effect/cli, which is why only a few commands get one: the
// install stays under its 5 MB budget (test/pack.test.ts).
import { build } from "esbuild"
import { execFile } from "node:child_process"
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, dirname, join } from "node:path"
import { promisify } from "node:util"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const dist = here("./dist")

// The bundles run through vm.Script (src/CompileCache.ts), where a real import() has no loader: Node 20 needs an
// experimental option for one, which warns on every run and is dropped for a script compiled from cached data.
// So an `await import("node:fs/promises")` in a bundled module becomes a require() in a promise, like esbuild
// already does for the modules it bundles; the build fails if any import() is left.
const builtinsByRequire = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, namespace: "builtin-by-require" } : undefined
    )
    b.onLoad({ filter: /.*/, namespace: "builtin-by-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: "js"
    }))
  }
}

const noImportLeft = (file, text) => {
  const at = text.search(/(?<![\w$.])import\(/)
  if (at >= 0)
    throw new Error(`build.mjs: ${file} still calls import() (${text.slice(at, at + 60)}…), which vm.Script cannot run`)
}

/** The commands with a bundle of their own (each has a handler module in src/handlers/). */
export const SLIM = ["classify", "doctor", "token"]

/** Command lines with an entry of their own, run without the CLI: exactly these arguments, nothing more. */
export const ENTRIES = [{ args: ["daemon", "run"], bundle: "daemon-run", source: "./src/daemonRun.ts" }]

/** Every command's name, one per module in src/commands/: what the dispatcher may take for a command. */
export const commandNames = async () =>
  (await readdir(here("./src/commands")))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.slice(0, -3))
    .sort()

// In the bundle for `command`, every other command's `import("../handlers/<name>.js")` becomes a module that
// fails with a clear message: the dispatcher never sends that command here, so it is never reached.
const onlyHandler = (command) => ({
  name: "only-this-handler",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/handlers\/[a-z-]+\.js$/ }, (args) => {
      const name = basename(args.path, ".js")
      return name === command ? undefined : { path: name, namespace: "absent-handler" }
    })
    b.onLoad({ filter: /.*/, namespace: "absent-handler" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(
        `tollgate: the ${args.path} command is not in this bundle; put the command name first: tollgate ${args.path} …`
      )})`,
      loader: "js"
    }))
  }
})

/**
 * `tollgate --help` as the CLI in `index` prints it with colour on (FORCE_COLOR; the dispatcher strips it
 * under the same policy as the CLI). Rendering it costs @effect/cli ~2× `node -e 0` on every start, and it
 * changes only when the CLI does, so the dispatcher prints this copy (Bundles.ts). Run in a throwaway HOME.
 */
const renderRootHelp = async (index) => {
  const home = await mkdtemp(join(tmpdir(), "tollgate-build-help-"))
  try {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: home, FORCE_COLOR: "1" }
    for (const name of ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"])
      env[name] = join(home, name)
    const { stdout } = await promisify(execFile)(process.execPath, [index, "--help"], {
      env,
      cwd: home,
      timeout: 60_000
    })
    if (!stdout.includes("USAGE"))
      throw new Error(`build.mjs: \`${index} --help\` printed no help: ${stdout.slice(0, 200)}`)
    return stdout
  } finally {
    await rm(home, { recursive: true, force: true })
  }
}

/**
 * Builds the dispatcher and the bundles into `outDir` (default `dist/`), replacing what was
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

  const cli = {
    ...common,
    entryPoints: [here("./src/bin.ts")],
    format: "cjs",
    // ES module builds first: jsonc-parser's "main" is a UMD build that require()s its own files at run
    // time, which a single-file bundle does not ship ("Cannot find module './impl/format'").
    mainFields: ["module", "main"],
    minify: true,
    // The sources are ES modules; as CommonJS, import.meta.url is this file's URL.
    define: { "import.meta.url": "__tollgateModuleUrl" },
    banner: { js: 'const __tollgateModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [builtinsByRequire],
    write: false
  }
  await mkdir(join(outDir, "cli"))
  const bundles = await Promise.all([
    build({ ...cli, outfile: join(outDir, "cli", "index.cjs") }),
    ...SLIM.map((command) =>
      build({
        ...cli,
        outfile: join(outDir, "cli", `${command}.cjs`),
        plugins: [builtinsByRequire, onlyHandler(command)]
      })
    ),
    ...ENTRIES.map(({ bundle, source }) =>
      build({ ...cli, entryPoints: [here(source)], outfile: join(outDir, "cli", `${bundle}.cjs`) })
    )
  ])
  for (const { outputFiles } of bundles) for (const file of outputFiles) noImportLeft(file.path, file.text)
  await Promise.all(
    bundles.flatMap(({ outputFiles }) => outputFiles.map((file) => writeFile(file.path, file.contents)))
  )
  await writeFile(join(outDir, "cli", "help.txt"), await renderRootHelp(join(outDir, "cli", "index.cjs")))

  const dispatcher = await build({
    ...common,
    entryPoints: [here("./src/main.ts")],
    outfile: join(outDir, "tollgate.js"),
    format: "cjs",
    banner: { js: "#!/usr/bin/env node" },
    // For Dispatch.pick: every command's name, those with a bundle of their own, and the exact command lines
    // with an entry of their own.
    define: {
      __TOLLGATE_COMMANDS__: JSON.stringify(await commandNames()),
      __TOLLGATE_SLIM__: JSON.stringify(SLIM),
      __TOLLGATE_ENTRIES__: JSON.stringify(ENTRIES.map(({ args, bundle }) => ({ args, bundle })))
    },
    metafile: true,
    plugins: [
      {
        name: "cli-from-bundles",
        setup(b) {
          // The dispatcher's import("./bin.js") (the whole CLI, when main.ts runs from source) becomes
          // Bundles.ts, which runs the bundle for the command asked for.
          b.onResolve({ filter: /^\.\/bin\.js$/ }, () => ({ path: here("./src/Bundles.ts") }))
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
