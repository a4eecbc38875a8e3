/**
 * The `tollgate` executable's entry: a dispatcher that keeps the statusline
 * hot path free of Effect. Claude Code runs `tollgate statusline` up to
 * every ~300 ms, so that one invocation loads only the small plain-TypeScript
 * statusline client; everything else (including `tollgate statusline
 * install` and `tollgate statusline --help`) loads the full CLI in `bin.ts`.
 *
 * No top-level await: the build emits this file as CommonJS (see build.mjs).
 */
if (process.argv[2] === "statusline" && process.argv.length === 3) {
  void import("@tollgate/daemon/statusline/main").then(({ run }) => run())
} else {
  void import("./bin.js")
}

/** A module, not a script: keeps TypeScript from treating this entry's names as globals. */
export {}
