/**
 * Hands the unified rate-limit headers of an upstream response to the
 * tollgate daemon (`ingest-headers`), fire-and-forget: only the unified
 * rate-limit headers (core's `UnifiedHeaders.pick`) leave the process, the connection
 * gets a 50 ms budget, and a daemon that is not running is silence.
 *
 * The socket path mirrors `@tollgate/daemon/Paths` (not a dependency here).
 *
 * @since 0.1.0
 */
import { createConnection } from "node:net"
import { join } from "node:path"
import * as Xdg from "@tollgate/files/Xdg"
import * as UnifiedHeaders from "@tollgate/core/UnifiedHeaders"

/** The prefix of the unified rate-limit headers, the only headers forwarded. @since 0.1.0 */
export const PREFIX: string = UnifiedHeaders.PREFIX

/** Milliseconds a forward may keep its connection to the daemon; a request never waits on it. @since 0.1.0 */
export const BUDGET_MS = 50

/**
 * Where the daemon listens: `$XDG_RUNTIME_DIR/tollgate/daemon.sock`, else
 * `$XDG_STATE_HOME/tollgate/run/daemon.sock` (`@tollgate/files/Xdg`, as the
 * daemon resolves it).
 *
 * @since 0.1.0
 */
export const socketPath = (env: Xdg.Env = process.env): string => join(Xdg.runtimeDir(env), "daemon.sock")

/** The unified headers only, lower-cased; empty when there are none. @since 0.1.0 */
export const unifiedHeaders = (headers: Headers | Readonly<Record<string, string>>): Record<string, string> =>
  UnifiedHeaders.pick(headers)

/** Sends a response's unified headers to the daemon so its statusline sees quota the plugin observed. @since 0.1.0 */
export interface Forwarder {
  /** Never throws, never awaits the daemon. Returns whether anything was sent off. */
  readonly forward: (headers: Headers | Readonly<Record<string, string>>) => boolean
}

/**
 * A forwarder for the daemon's socket (default {@link socketPath}). Sending never
 * fails the caller; a missing daemon is ignored.
 *
 * @since 0.1.0
 */
export const make = (
  options: { readonly socket?: string | undefined; readonly env?: Xdg.Env | undefined } = {}
): Forwarder => ({
  forward: (headers) => {
    try {
      const unified = unifiedHeaders(headers)
      if (Object.keys(unified).length === 0) return false
      const socket = options.socket ?? socketPath(options.env ?? process.env)
      const line = `${JSON.stringify({ v: 1, op: "ingest-headers", headers: unified, at: Date.now() })}\n`
      const conn = createConnection(socket)
      conn.unref()
      const timer = setTimeout(() => conn.destroy(), BUDGET_MS)
      timer.unref()
      conn.on("error", () => {
        clearTimeout(timer)
        conn.destroy()
      })
      conn.on("connect", () => conn.write(line))
      // One reply line ends the exchange; it is not read further.
      conn.on("data", () => {
        clearTimeout(timer)
        conn.end()
      })
      conn.on("close", () => clearTimeout(timer))
      return true
    } catch {
      return false
    }
  }
})

/** The forwarder for this environment. @since 0.1.0 */
export const forward = (headers: Headers | Readonly<Record<string, string>>): boolean => make().forward(headers)
