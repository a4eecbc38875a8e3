/**
 * Where the gateway keeps its things: the gateway key and the account list in
 * `$XDG_CONFIG_HOME/tollgate/` (0700), the optional Unix socket beside the
 * daemon's in `$XDG_RUNTIME_DIR/tollgate/`.
 *
 * @since 0.1.0
 */
import { join } from "node:path"
import * as Xdg from "@tollgate/files/Xdg"

/** The TCP port on 127.0.0.1 when none is given (`--port`, `TOLLGATE_GATEWAY_PORT`). @since 0.1.0 */
export const DEFAULT_PORT = 7433

/**
 * Where the gateway's key, account list, socket and state file live; `resolve`
 * fills it from the XDG variables.
 *
 * @since 0.1.0
 */
export interface Paths {
  readonly configDir: string
  /** The per-user gateway key, 0600. */
  readonly keyFile: string
  /** The gateway's accounts (`{"accounts": [...]}`, the opencode plugin's account entries); optional. */
  readonly configFile: string
  readonly runtimeDir: string
  /** The optional 0600 Unix socket (`--socket`). */
  readonly socket: string
  /** What the gateway records per account (last verdict, quota, skips), under `$XDG_STATE_HOME/tollgate`. */
  readonly stateFile: string
}

/** The gateway's paths for this environment, so the CLI and the gateway agree on every file. @since 0.1.0 */
export const resolve = (env: Xdg.Env = process.env): Paths => {
  const configDir = Xdg.configDir(env)
  const stateDir = Xdg.stateDir(env)
  const runtimeDir = Xdg.runtimeDir(env)
  return {
    configDir,
    keyFile: join(configDir, "gateway.key"),
    configFile: join(configDir, "gateway.json"),
    runtimeDir,
    socket: join(runtimeDir, "gateway.sock"),
    stateFile: join(stateDir, "gateway-accounts.json")
  }
}

/** The port from `TOLLGATE_GATEWAY_PORT`, else {@link DEFAULT_PORT}. @since 0.1.0 */
export const port = (env: Xdg.Env = process.env): number => {
  const raw = env["TOLLGATE_GATEWAY_PORT"]
  if (raw === undefined || raw.trim() === "") return DEFAULT_PORT
  const n = Number(raw)
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : DEFAULT_PORT
}

/** The base URL a client is given: `http://127.0.0.1:PORT` (Anthropic SDKs add `/v1`). @since 0.1.0 */
export const baseUrl = (port: number): string => `http://127.0.0.1:${port}`
