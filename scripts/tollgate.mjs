// `pnpm tollgate …` in a checkout: runs the built CLI (apps/cli/dist/tollgate.js), building it first when a
// source it bundles is newer than the build. The built dispatcher is what users install, starts ~10× faster
// than the TypeScript sources under tsx, and is what `statusline install`, `daemon install` and the other
// installers write into other programs' configuration, since they name the entry this process runs.
import { statSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { sourcesNewestAt } from "../apps/cli/freshness.mjs"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const dist = join(root, "apps/cli/dist/tollgate.js")

const builtAt = (() => {
  try {
    return statSync(dist).mtimeMs
  } catch {
    return -1
  }
})()

if (builtAt < sourcesNewestAt(root)) {
  process.stderr.write(
    builtAt < 0 ? "tollgate: building the CLI (first run)…\n" : "tollgate: sources changed; rebuilding the CLI…\n"
  )
  const { buildCli } = await import("../apps/cli/build.mjs")
  await buildCli()
}

// The dispatcher reads its own path from argv[1] (installers write it into other programs' configuration).
process.argv.splice(1, 1, dist)
createRequire(import.meta.url)(dist)
