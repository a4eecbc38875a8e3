/**
 * Where the daemon lives on disk: its socket and its published status in
 * `$XDG_RUNTIME_DIR/tollgate/` (fallback: a 0700 directory of ours under the
 * state dir) and its state in `$XDG_STATE_HOME/tollgate/`. Plain TypeScript: the statusline client uses it.
 *
 * @since 0.1.0
 */
import { join } from "node:path"

/** @since 0.1.0 */
export interface Paths {
  readonly runtimeDir: string
  readonly socket: string
  /** The last status the daemon answered, for statuslines to read without asking (see `Protocol.Published`). */
  readonly published: string
  readonly stateDir: string
  readonly stateFile: string
}

type Env = Readonly<Record<string, string | undefined>>

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== ""

/** @since 0.1.0 */
export const resolve = (env: Env = process.env): Paths => {
  const home = env["HOME"] ?? "/"
  const stateDir = join(set(env["XDG_STATE_HOME"]) ? env["XDG_STATE_HOME"] : join(home, ".local", "state"), "tollgate")
  const runtimeDir = set(env["XDG_RUNTIME_DIR"]) ? join(env["XDG_RUNTIME_DIR"], "tollgate") : join(stateDir, "run")
  return {
    runtimeDir,
    socket: join(runtimeDir, "daemon.sock"),
    published: join(runtimeDir, "status.json"),
    stateDir,
    stateFile: join(stateDir, "daemon.json")
  }
}
