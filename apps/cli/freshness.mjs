// When the checkout's built CLI (apps/cli/dist/) is out of date: the newest modification time of any source or
// manifest it bundles. One rule for the two places that ask: scripts/tollgate.mjs (`pnpm tollgate`, which
// rebuilds) and SelfCommand (installers run from the sources, which use the build only when it is current).
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const SKIP = new Set(["node_modules", "dist", "test", "bench", ".turbo"])
const SOURCE = /\.(ts|mts|cts|mjs|js|json)$/

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/** The newest modification time under `dir` (sources and manifests only; dot-directories skipped). */
const newest = (dir) => {
  let latest = 0
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    if (SKIP.has(entry.name) || entry.name.startsWith(".")) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) latest = Math.max(latest, newest(path))
    else if (SOURCE.test(entry.name)) latest = Math.max(latest, mtime(path))
  }
  return latest
}

/** The newest time among what the CLI bundles in the checkout at `root`: apps/cli, packages/*, the lockfile. */
export const sourcesNewestAt = (root) =>
  Math.max(newest(join(root, "apps/cli")), newest(join(root, "packages")), mtime(join(root, "pnpm-lock.yaml")))
