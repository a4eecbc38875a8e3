// One throwaway HOME for any real runtime a test runs (Claude Code, opencode,
// the daemon): TMPDIR and every XDG directory inside it, and an environment
// that holds only those, HOME and PATH — nothing else from `process.env`
// (no CLAUDE_*, ANTHROPIC_* or OPENCODE_* variable) leaks in.
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface IsolatedHome {
  readonly home: string
  /** TMPDIR and the XDG directories, created 0700. */
  readonly dirs: {
    readonly tmp: string
    readonly XDG_CONFIG_HOME: string
    readonly XDG_DATA_HOME: string
    readonly XDG_STATE_HOME: string
    readonly XDG_CACHE_HOME: string
    readonly XDG_RUNTIME_DIR: string
  }
  readonly env: Record<string, string>
  cleanup(): Promise<void>
}

/** Creates the HOME plus `extraDirs` (paths relative to it, created 0700). */
export const makeIsolatedHome = async (
  prefix: string,
  extraDirs: ReadonlyArray<string> = []
): Promise<IsolatedHome> => {
  const home = await mkdtemp(join(tmpdir(), prefix))
  const dirs = {
    tmp: join(home, "tmp"),
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_RUNTIME_DIR: join(home, "run")
  }
  await Promise.all(
    [...Object.values(dirs), ...extraDirs.map((dir) => join(home, dir))].map((dir) =>
      mkdir(dir, { recursive: true, mode: 0o700 })
    )
  )
  const { tmp, ...xdg } = dirs
  const env: Record<string, string> = {
    HOME: home,
    TMPDIR: tmp,
    ...xdg,
    PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
  }
  let removed: Promise<void> | undefined
  return { home, dirs, env, cleanup: () => (removed ??= rm(home, { recursive: true, force: true })) }
}
