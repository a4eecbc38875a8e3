/**
 * Where tollgate keeps its own files, by the XDG base-directory spec:
 * `$XDG_STATE_HOME/tollgate`, `$XDG_CONFIG_HOME/tollgate`, and
 * `$XDG_RUNTIME_DIR/tollgate` (else a `run` directory under the state
 * directory). One resolution for every program, so the daemon, the
 * statusline, the plugin's forwarder and the gateway always agree on a path.
 *
 * A variable that is unset, blank or relative is ignored, as the spec says;
 * a blank `HOME` falls back to the operating system's idea of it. Where
 * another program's files are (opencode's `auth.json`, its config) follows
 * that program's own rules instead, so those are not resolved here.
 *
 * @since 0.2.0
 */
import { homedir } from "node:os"
import { isAbsolute, join } from "node:path"

/** The environment the directories are read from (`process.env` by default). @since 0.2.0 */
export type Env = Readonly<Record<string, string | undefined>>

/** The base directories with a default under HOME. @since 0.2.0 */
export type Base = "XDG_CONFIG_HOME" | "XDG_DATA_HOME" | "XDG_STATE_HOME" | "XDG_CACHE_HOME"

const DEFAULTS: { readonly [B in Base]: ReadonlyArray<string> } = {
  XDG_CONFIG_HOME: [".config"],
  XDG_DATA_HOME: [".local", "share"],
  XDG_STATE_HOME: [".local", "state"],
  XDG_CACHE_HOME: [".cache"]
}

const usable = (value: string | undefined): value is string =>
  value !== undefined && value.trim() !== "" && isAbsolute(value)

/** `$HOME`, else the operating system's home directory (`/` when it has none). @since 0.2.0 */
export const home = (env: Env = process.env): string => {
  const value = env["HOME"]
  if (value !== undefined && value.trim() !== "") return value
  try {
    return homedir()
  } catch {
    return "/"
  }
}

/** A base directory: the variable when it is an absolute path, else its default under {@link home}. @since 0.2.0 */
export const base = (name: Base, env: Env = process.env): string => {
  const value = env[name]
  return usable(value) ? value : join(home(env), ...DEFAULTS[name])
}

/** `$XDG_STATE_HOME/tollgate`: state that outlives a run (backoff, accounts, the daemon's state). @since 0.2.0 */
export const stateDir = (env: Env = process.env): string => join(base("XDG_STATE_HOME", env), "tollgate")

/** `$XDG_CONFIG_HOME/tollgate`: what the user configures (the gateway's key and settings). @since 0.2.0 */
export const configDir = (env: Env = process.env): string => join(base("XDG_CONFIG_HOME", env), "tollgate")

/**
 * `$XDG_RUNTIME_DIR/tollgate` for sockets and the published status, else
 * `run` under {@link stateDir} (a 0700 directory of ours) where the system
 * provides no runtime directory (macOS, a cron job, a container).
 *
 * @since 0.2.0
 */
export const runtimeDir = (env: Env = process.env): string => {
  const value = env["XDG_RUNTIME_DIR"]
  return usable(value) ? join(value, "tollgate") : join(stateDir(env), "run")
}
