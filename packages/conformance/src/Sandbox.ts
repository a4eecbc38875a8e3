/**
 * The one throwaway HOME every test runs a program in (Claude Code, opencode,
 * the daemon, the `tollgate` CLI): TMPDIR and every XDG directory inside it,
 * and an environment that holds only those, HOME and PATH — nothing else from
 * `process.env` (no CLAUDE_*, ANTHROPIC_* or OPENCODE_* variable) leaks in,
 * and nothing touches the real home directory.
 *
 * @since 0.2.0
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * A throwaway HOME from {@link make}: its directories and the only environment a
 * program run in it should get.
 *
 * @since 0.2.0
 */
export interface Sandbox {
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

/**
 * Creates the HOME (a temp directory named from `prefix`) plus `extraDirs`
 * (paths relative to it, created 0700). `cleanup` removes it all, once.
 *
 * @since 0.2.0
 */
export const make = async (prefix: string, extraDirs: ReadonlyArray<string> = []): Promise<Sandbox> => {
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
