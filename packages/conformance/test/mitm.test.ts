// The MITM proxy against plain Node clients, then the real Claude Code 2.1.330 as
// the judge: an expired store must be refreshed through the proxy exactly once,
// even with several Claude Code processes racing for it.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tls from "node:tls"
import { afterEach, describe, expect, it } from "vitest"
import { claudeAuthStatus, makeTempHome } from "../src/ClaudeCode.js"
import { startMitm, type MitmProxy } from "../src/Mitm.js"
import * as Simulator from "../src/Simulator.js"

const SCOPES = ["user:inference", "user:profile", "user:sessions:claude_code"]

// Cleanup registry so a failing assertion never leaves a proxy, a simulator or a temp HOME behind.
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const certDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-mitm-"))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const startSim = async (options: Simulator.Options = {}) => {
  const sim = await Simulator.start({ ttlMs: 120_000, ...options })
  cleanups.push(() => sim.close())
  return sim
}

const startProxy = async (handler: http.RequestListener): Promise<MitmProxy> => {
  const proxy = await startMitm({ handler, dir: await certDir(), ttlMs: 120_000 })
  cleanups.push(() => proxy.close())
  return proxy
}

/** Sends `CONNECT target` to the proxy and returns the status and the raw socket. */
const connect = (proxy: MitmProxy, target: string) =>
  new Promise<{ status: number; socket: import("node:net").Socket }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: proxy.port, method: "CONNECT", path: target, agent: false })
    req.once("connect", (res, socket) => resolve({ status: res.statusCode ?? 0, socket }))
    req.once("error", reject)
    req.end()
  })

const closed = (socket: import("node:net").Socket): Promise<void> =>
  new Promise((resolve) => {
    if (socket.destroyed) return resolve()
    socket.once("close", () => resolve())
    socket.resume()
  })

/** An HTTPS GET through an accepted tunnel, trusting only the proxy's throwaway CA. */
const getThroughTunnel = async (proxy: MitmProxy, host: string, path: string) => {
  const tunnel = await connect(proxy, `${host}:443`)
  expect(tunnel.status).toBe(200)
  const ca = await readFile(proxy.caCertPath, "utf8")
  const secure = tls.connect({ socket: tunnel.socket, servername: host, ca, ALPNProtocols: ["h2", "http/1.1"] })
  await new Promise<void>((resolve, reject) => {
    secure.once("secureConnect", resolve)
    secure.once("error", reject)
  })
  const alpn = secure.alpnProtocol
  const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      { host, path, method: "GET", createConnection: () => secure, headers: { host, "user-agent": "mitm-test" } },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
      }
    )
    req.once("error", reject)
    req.end()
  })
  secure.destroy()
  return { ...response, alpn }
}

describe("Mitm proxy", () => {
  it("terminates TLS for an impersonated host with a certificate the throwaway CA vouches for", async () => {
    const sim = await startSim()
    const proxy = await startProxy(sim.listener)
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`)

    const result = await getThroughTunnel(proxy, "api.anthropic.com", "/api/oauth/nothing")

    expect(result.alpn).toBe("http/1.1")
    expect(result.status).toBe(404)
    expect(sim.log).toEqual([
      expect.objectContaining({ method: "GET", host: "api.anthropic.com", path: "/api/oauth/nothing" })
    ])
    expect(proxy.tunnels.map((t) => [t.host, t.port])).toEqual([["api.anthropic.com", 443]])
  })

  it("refuses CONNECT to any other host or port with 403, and plain proxying with 405", async () => {
    const sim = await startSim()
    const proxy = await startProxy(sim.listener)

    for (const target of ["example.com:443", "platform.claude.com:80", "api.anthropic.com:8443", "127.0.0.1:443"]) {
      const refused = await connect(proxy, target)
      expect(refused.status, target).toBe(403)
      await closed(refused.socket)
    }

    const plain = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: proxy.port, method: "GET", path: "http://example.com/", agent: false },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        }
      )
      req.once("error", reject)
      req.end()
    })
    expect(plain).toBe(405)
    expect(proxy.tunnels).toEqual([])
    expect(sim.log).toEqual([])
  })

  it("survives a client that drops the TLS handshake, and close() is idempotent", async () => {
    const sim = await startSim()
    const proxy = await startProxy(sim.listener)

    // A TLS client that does not trust the throwaway CA aborts the handshake.
    const tunnel = await connect(proxy, "platform.claude.com:443")
    const rejected = await new Promise<Error>((resolve) => {
      const secure = tls.connect({ socket: tunnel.socket, servername: "platform.claude.com" })
      secure.once("error", resolve)
      secure.once("secureConnect", () => resolve(new Error("unexpectedly trusted")))
    })
    expect(rejected.message).not.toBe("unexpectedly trusted")

    // Still serving after that.
    const ok = await getThroughTunnel(proxy, "platform.claude.com", "/nothing-here")
    expect(ok.status).toBe(404)

    const idle = await connect(proxy, "api.anthropic.com:443")
    await Promise.all([proxy.close(), proxy.close()])
    await closed(idle.socket)
    await proxy.close()
  })
})

describe("Claude Code 2.1.330 refreshing through the simulator's MITM mode", () => {
  const setUp = async () => {
    const sim = await startSim({ scenario: "expired-access-token" })
    const proxy = await startProxy(sim.listener)
    const home = await makeTempHome()
    cleanups.push(() => home.cleanup())
    const credentialsPath = join(home.claudeDir, ".credentials.json")
    await writeFile(
      credentialsPath,
      JSON.stringify({
        claudeAiOauth: {
          accessToken: sim.account.accessToken,
          refreshToken: sim.account.refreshToken,
          expiresAt: sim.account.expiresAt,
          scopes: SCOPES,
          subscriptionType: "max",
          rateLimitTier: "default_claude_max_20x"
        },
        mcpOAuth: {}
      }),
      { mode: 0o600 }
    )
    return { sim, proxy, credentialsPath, env: { ...home.env, ...proxy.env } }
  }

  const expectRotatedStore = async (credentialsPath: string, sim: Simulator.Simulator) => {
    const issued = sim.current()
    const document = JSON.parse(await readFile(credentialsPath, "utf8")) as Record<string, unknown>
    const oauth = document["claudeAiOauth"] as Record<string, unknown>
    // Compare booleans, not values, so a failure never prints a token.
    expect(oauth["accessToken"] === issued.accessToken, "stored access token is the issued one").toBe(true)
    expect(oauth["refreshToken"] === issued.refreshToken, "stored refresh token is the issued one").toBe(true)
    expect(Math.abs(Number(oauth["expiresAt"]) - issued.expiresAt)).toBeLessThan(10_000)
    expect(oauth["scopes"]).toEqual([...issued.scopes])
    expect(oauth["subscriptionType"]).toBe("max")
    // A key Claude Code does not own inside the document survives its write-back.
    expect(document["mcpOAuth"]).toEqual({})
    expect((await stat(credentialsPath)).mode & 0o777).toBe(0o600)
  }

  it("an expired store is refreshed through the simulator with exactly one token POST", async () => {
    const { sim, proxy, credentialsPath, env } = await setUp()

    const status = await claudeAuthStatus({ env, timeoutMs: 30_000 })

    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.json?.["loggedIn"]).toBe(true)
    expect(status.json?.["authMethod"]).toBe("claude.ai")

    const posts = sim.log.filter((r) => r.route === "token")
    expect(posts).toHaveLength(1)
    expect(posts[0]).toMatchObject({ host: "platform.claude.com", outcome: 200, body: { grantType: "refresh_token" } })
    // Claude Code uses a bare HTTP-library UA here; `claude-code/…` or `Mozilla…` gets 429 upstream.
    expect(posts[0]?.userAgent).not.toMatch(/^(claude-code\/|Mozilla)/)
    // Observed on 2.1.330: after the refresh it reads the profile for plan and tier.
    expect(sim.count("profile")).toBeGreaterThanOrEqual(1)
    expect(sim.log.every((r) => r.host === "platform.claude.com" || r.host === "api.anthropic.com")).toBe(true)
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1)
    await expectRotatedStore(credentialsPath, sim)
  })

  it("four parallel processes on one expired store make exactly one token POST", async () => {
    const { sim, credentialsPath, env } = await setUp()

    const results = await Promise.all(Array.from({ length: 4 }, () => claudeAuthStatus({ env, timeoutMs: 45_000 })))

    for (const result of results) {
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.json?.["loggedIn"]).toBe(true)
    }
    // Claude Code's `.oauth_refresh.lock` directory serialises the refresh; the others adopt the new token.
    expect(sim.count("token")).toBe(1)
    expect(sim.log.filter((r) => r.outcome === 400)).toEqual([])
    await expectRotatedStore(credentialsPath, sim)
  })
})
