// CI: every package changed since the last release carries a changeset. The last release is the newest commit
// that consumed changesets (`changeset version` deletes their files); before any, the repository's first commit.
// `changeset status --since` then fails when a package changed in that range has no pending changeset.
import { execFileSync, spawnSync } from "node:child_process"

const git = (...args) => execFileSync("git", args, { encoding: "utf8" }).trim()

let since = git("log", "--diff-filter=D", "--format=%H", "-1", "--", ".changeset/*.md")
if (since === "") since = git("rev-list", "--max-parents=0", "HEAD").split("\n").at(-1)
if (!since) {
  console.error("changeset check: no commit to compare with (a shallow clone?); fetch the history first")
  process.exit(1)
}
console.log(`changeset check: packages changed since ${since.slice(0, 12)} must carry a changeset`)
const run = spawnSync("pnpm", ["exec", "changeset", "status", `--since=${since}`], { stdio: "inherit" })
process.exit(run.status ?? 1)
