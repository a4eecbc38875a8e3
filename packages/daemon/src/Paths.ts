/**
 * Where the daemon lives on disk: its socket and its published status in
 * `$XDG_RUNTIME_DIR/tollgate/` (fallback: a 0700 directory of ours under the
 * state dir) and its state in `$XDG_STATE_HOME/tollgate/`. Plain TypeScript: the statusline client uses it.
 *
 * @since 0.1.0
 */
import { join } from "node:path"
import * as Xdg from "@tollgate/files/Xdg"

/**
 * The daemon's files: the runtime directory with its socket and published
 * status, and the state directory with its state file.
 *
 * @since 0.1.0
 */
export interface Paths {
  readonly runtimeDir: string
  readonly socket: string
  /** The last status the daemon answered, for statuslines to read without asking (see `Protocol.Published`). */
  readonly published: string
  readonly stateDir: string
  readonly stateFile: string
}

/**
 * The daemon's paths from the XDG variables in `env`: the daemon, the
 * statusline and the CLI each call it, so all three agree on the files.
 *
 * @since 0.1.0
 */
export const resolve = (env: Xdg.Env = process.env): Paths => {
  const stateDir = Xdg.stateDir(env)
  const runtimeDir = Xdg.runtimeDir(env)
  return {
    runtimeDir,
    socket: join(runtimeDir, "daemon.sock"),
    published: join(runtimeDir, "status.json"),
    stateDir,
    stateFile: join(stateDir, "daemon.json")
  }
}
