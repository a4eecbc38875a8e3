/**
 * The daemon's Unix socket server: one JSON request line in, one JSON reply
 * line out, per connection. It lives in a 0700 directory of ours and the
 * socket itself is 0600 (shelltime's `/tmp/shelltime.sock` is 0777); it
 * never crashes on what a client sends or how it hangs up.
 *
 * @since 0.1.0
 */
import { createServer, type Socket } from "node:net"
import { chmod } from "node:fs/promises"
import { dirname } from "node:path"
import { ensurePrivateDir, errorCode, inodeOf, unlinkQuietly } from "./internal/serverDir.js"
import { serve } from "./internal/serverConnection.js"
import { SocketError } from "./internal/serverError.js"
import * as Protocol from "./Protocol.js"
import * as SingleInstance from "./SingleInstance.js"

/**
 * Why the server (or `SingleInstance.acquire`) would not start:
 * `AlreadyRunning`, `UnsafeDirectory` or `Listen`.
 *
 * @since 0.1.0
 */
export { SocketError }

/** What {@link start} listens on, how it answers a request, and its limits. @since 0.1.0 */
export interface Options {
  readonly socketPath: string
  /** Answers one well-formed request. A rejection becomes an `internal` error reply. */
  readonly handle: (request: Protocol.Request) => Promise<Protocol.Reply>
  /** Default {@link Protocol.MAX_REQUEST_BYTES}. */
  readonly maxRequestBytes?: number | undefined
  /** Default {@link Protocol.READ_DEADLINE_MS}. */
  readonly readDeadlineMs?: number | undefined
  /** One line per refused or garbage connection; never request contents. Default: silent. */
  readonly log?: ((line: string) => void) | undefined
}

/** A listening server. @since 0.1.0 */
export interface Server {
  /** Stops accepting, closes open connections, removes the socket file. Idempotent. */
  readonly close: () => Promise<void>
  /** Open connections right now. */
  readonly connections: () => number
}

/**
 * Listens on `socketPath`. Rejects with a {@link SocketError} when a live
 * daemon answers there, when the directory is not ours alone, or when
 * binding fails; a socket file nobody answers on is removed first.
 *
 * @since 0.1.0
 */
export const start = async (options: Options): Promise<Server> => {
  const { socketPath } = options
  const log = options.log ?? (() => {})
  // Inside a 0700 directory the socket is private from the moment it exists,
  // so the umask-dependent mode it is created with never matters.
  await ensurePrivateDir(dirname(socketPath))
  if ((await inodeOf(socketPath)) !== null) {
    const other = await SingleInstance.probe(socketPath, SingleInstance.PING_TIMEOUT_MS)
    if (other !== null) {
      throw new SocketError({
        reason: "AlreadyRunning",
        path: socketPath,
        detail: `tollgate daemon is already running (pid ${other.pid ?? "unknown"}, socket ${socketPath})`
      })
    }
    await unlinkQuietly(socketPath)
  }

  const open = new Set<Socket>()
  const connection = {
    handle: options.handle,
    maxRequestBytes: options.maxRequestBytes ?? Protocol.MAX_REQUEST_BYTES,
    readDeadlineMs: options.readDeadlineMs ?? Protocol.READ_DEADLINE_MS,
    log
  }
  // Half-open so a client may end its side instead of sending the newline and still read the reply.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket)
    socket.on("close", () => open.delete(socket))
    serve(socket, connection)
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(socketPath, () => {
      server.off("error", reject)
      resolve()
    })
  }).catch((error: unknown) => {
    throw new SocketError({
      reason: "Listen",
      path: socketPath,
      detail: `cannot listen (${errorCode(error) ?? String(error)})`
    })
  })
  server.on("error", (error) => log(`tollgate daemon: socket server error ${errorCode(error) ?? "unknown"}`))
  let inode: number | null
  try {
    await chmod(socketPath, 0o600)
    inode = await inodeOf(socketPath)
  } catch (error) {
    server.close()
    throw new SocketError({
      reason: "Listen",
      path: socketPath,
      detail: `cannot make the socket private (${errorCode(error) ?? String(error)})`
    })
  }

  let closing: Promise<void> | undefined
  return {
    connections: () => open.size,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          for (const socket of open) socket.destroy()
        })
        // Only the file we created: after a takeover the path may be another daemon's.
        if (inode !== null && (await inodeOf(socketPath)) === inode) await unlinkQuietly(socketPath)
      })())
  }
}
