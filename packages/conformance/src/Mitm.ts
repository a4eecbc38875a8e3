/**
 * A loopback HTTPS "man in the middle" for driving the real Claude Code binary.
 *
 * Claude Code's token, profile and usage URLs cannot be redirected by any
 * environment variable, but it honours `HTTPS_PROXY` and `NODE_EXTRA_CA_CERTS`.
 * So the simulator poses as a CONNECT proxy, terminates TLS itself with a leaf
 * certificate for the Anthropic hosts signed by a throwaway CA, and hands the
 * decrypted requests to a test handler. Nothing ever leaves the machine: the
 * proxy never opens an outbound connection.
 */
import * as http from "node:http"
import type { Duplex } from "node:stream"
import * as tls from "node:tls"
import { generateCertificates } from "./internal/certs.js"

/** Hosts the proxy impersonates unless told otherwise. */
export const defaultHosts: ReadonlyArray<string> = ["platform.claude.com", "api.anthropic.com"]

/** Options for {@link startMitm}. */
export interface MitmOptions {
  /** Receives every decrypted request sent to one of the impersonated hosts. */
  readonly handler: (req: http.IncomingMessage, res: http.ServerResponse) => void
  /** A temporary directory the caller owns; the CA and leaf files are written here. */
  readonly dir: string
  /** Hosts the proxy accepts CONNECT for (port 443 only). */
  readonly hosts?: ReadonlyArray<string>
  /** The proxy closes itself after this long so a forgotten one cannot linger (default 5 min). */
  readonly ttlMs?: number
}

/** One accepted CONNECT tunnel. */
export interface MitmTunnel {
  readonly host: string
  readonly port: number
  /** Epoch milliseconds when the tunnel was accepted. */
  readonly at: number
}

/** A running proxy. */
export interface MitmProxy {
  readonly port: number
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** The throwaway CA the child must trust (via `NODE_EXTRA_CA_CERTS`). */
  readonly caCertPath: string
  /** Environment variables that route a child process through this proxy. */
  readonly env: Readonly<Record<string, string>>
  /** Tunnels accepted so far, in order. */
  readonly tunnels: ReadonlyArray<MitmTunnel>
  /** Destroys every open socket and resolves once both servers are closed; idempotent. */
  close(): Promise<void>
}

const DEFAULT_TTL_MS = 5 * 60_000

// Ignore socket errors: a child killed mid-request (ECONNRESET) or one that
// rejects the certificate must never crash the test process.
const swallow = (): void => {}

const parseAuthority = (authority: string): { host: string; port: number } | undefined => {
  const colon = authority.lastIndexOf(":")
  if (colon <= 0) return undefined
  const portText = authority.slice(colon + 1)
  if (!/^\d{1,5}$/.test(portText)) return undefined
  return { host: authority.slice(0, colon).toLowerCase(), port: Number(portText) }
}

/**
 * Starts the proxy on 127.0.0.1 (an ephemeral port) after generating its
 * certificates in `options.dir`.
 */
export const startMitm = async (options: MitmOptions): Promise<MitmProxy> => {
  const hosts = options.hosts ?? defaultHosts
  const allowed = new Set(hosts.map((host) => host.toLowerCase()))
  const certs = await generateCertificates(options.dir, hosts)
  const secureContext = tls.createSecureContext({ key: certs.leafKeyPem, cert: certs.leafCertPem })

  const sockets = new Set<Duplex>()
  const track = (socket: Duplex): void => {
    sockets.add(socket)
    socket.on("error", swallow)
    socket.once("close", () => sockets.delete(socket))
  }
  const tunnels: Array<MitmTunnel> = []

  // Never listens: it only parses HTTP on the TLS sockets the proxy hands it.
  const internal = http.createServer(options.handler)
  internal.on("clientError", (_error, socket) => socket.destroy())

  const proxy = http.createServer((_req, res) => {
    // Plain-HTTP proxying would mean fetching from the network: refuse it.
    res.writeHead(405, { "content-type": "text/plain", connection: "close" })
    res.end("tollgate MITM proxy: only CONNECT to an impersonated host is supported\n")
  })
  proxy.on("connection", track)
  proxy.on("clientError", (_error, socket) => socket.destroy())

  proxy.on("connect", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = parseAuthority(req.url ?? "")
    if (target === undefined || target.port !== 443 || !allowed.has(target.host)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", () => socket.destroy())
      return
    }
    tunnels.push({ host: target.host, port: target.port, at: Date.now() })
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
    // Bytes the client sent after the CONNECT head already belong to the TLS handshake.
    if (head.length > 0) socket.unshift(head)
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      // HTTP/2 would bypass the http.Server we hand the stream to.
      ALPNProtocols: ["http/1.1"]
    })
    track(secure)
    internal.emit("connection", secure)
  })

  await new Promise<void>((resolve, reject) => {
    proxy.once("error", reject)
    // Loopback only: the proxy must never be reachable from another machine.
    proxy.listen(0, "127.0.0.1", () => {
      proxy.off("error", reject)
      resolve()
    })
  })
  proxy.on("error", swallow)
  const address = proxy.address()
  if (address === null || typeof address === "string") throw new Error("startMitm: no TCP address")
  const port = address.port
  const url = `http://127.0.0.1:${port}`

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearTimeout(ttl)
      const proxyClosed = new Promise<void>((resolve) => proxy.close(() => resolve()))
      // The internal server never listened, so close() only reports ERR_SERVER_NOT_RUNNING;
      // it still drops its idle keep-alive bookkeeping.
      const internalClosed = new Promise<void>((resolve) => internal.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      await Promise.all([proxyClosed, internalClosed])
    })()
    return closing
  }
  const ttl = setTimeout(() => void close(), options.ttlMs ?? DEFAULT_TTL_MS)
  // The TTL is a safety net, not a reason to keep the process alive.
  ttl.unref()

  const noProxy = "127.0.0.1,localhost"
  const env: Readonly<Record<string, string>> = {
    HTTPS_PROXY: url,
    https_proxy: url,
    // Plain-HTTP traffic also goes to the proxy, which refuses it (405) instead of it reaching the network.
    HTTP_PROXY: url,
    http_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    NODE_EXTRA_CA_CERTS: certs.caCertPath,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"
  }

  return {
    port,
    url,
    caCertPath: certs.caCertPath,
    env,
    tunnels,
    close
  }
}
