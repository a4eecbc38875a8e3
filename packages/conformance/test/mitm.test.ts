// The MITM proxy against plain Node clients, then the real Claude Code 2.1.330 as
// the judge: an expired store must be refreshed through the proxy exactly once,
// even with several Claude Code processes racing for it.
import { randomBytes, randomUUID } from "node:crypto"
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tls from "node:tls"
import { afterEach, describe, expect, it } from "vitest"
import { claudeAuthStatus, makeTempHome, type TempHome } from "../src/ClaudeCode.js"
import { startMitm, type MitmProxy } from "../src/Mitm.js"

const CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
const GRANTED_SCOPE = "user:inference user:profile user:sessions:claude_code"
const ACCESS_TTL_SECONDS = 28_800

/** One request the fake Anthropic saw; deliberately without any token. */
interface Seen {
  readonly method: string
  readonly host: string
  readonly sni: string | null
  readonly path: string
  readonly userAgent: string
  bodyLength: number
  grantType?: string
  clientId?: string
  scope?: string
  /** 0 until the response is written (the client may hang up first). */
  status: number
}

const randomToken = (kind: "oat01" | "ort01"): string =>
  `sk-ant-${kind}-${randomBytes(24).toString("base64url")}`

/**
 * A tiny stand-in for platform.claude.com and api.anthropic.com: a rotating
 * token endpoint with single-use refresh tokens, a profile, and a record of
 * every request.
 */
const makeFakeAnthropic = () => {
  const account = { uuid: randomUUID(), email: "judge@example.com" }
  const organization = { uuid: randomUUID() }
  const state = {
    validRefresh: randomToken("ort01"),
    usedRefresh: new Set<string>(),
    issued: [] as Array<{ accessToken: string; refreshToken: string; expiresAt: number }>
  }
  const seen: Array<Seen> = []

  const parseBody = (req: http.IncomingMessage, raw: string): Record<string, unknown> => {
    const type = req.headers["content-type"] ?? ""
    try {
      if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw))
      const value: unknown = JSON.parse(raw)
      return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {}
    } catch {
      return {}
    }
  }

  const json = (res: http.ServerResponse, status: number, body: unknown): number => {
    res.writeHead(status, { "content-type": "application/json" })
    res.end(JSON.stringify(body))
    return status
  }

  const token = (res: http.ServerResponse, body: Record<string, unknown>): number => {
    if (body["grant_type"] !== "refresh_token") {
      return json(res, 400, { error: "unsupported_grant_type", error_description: "Unsupported grant type" })
    }
    const presented = body["refresh_token"]
    if (typeof presented !== "string" || presented !== state.validRefresh) {
      return json(res, 400, { error: "invalid_grant", error_description: "Refresh token not found or invalid" })
    }
    state.usedRefresh.add(presented)
    const accessToken = randomToken("oat01")
    const refreshToken = randomToken("ort01")
    state.validRefresh = refreshToken
    state.issued.push({ accessToken, refreshToken, expiresAt: Date.now() + ACCESS_TTL_SECONDS * 1000 })
    return json(res, 200, {
      access_token: accessToken,
      refresh_token: refreshToken,
      expires_in: ACCESS_TTL_SECONDS,
      scope: GRANTED_SCOPE,
      token_type: "Bearer",
      account: { uuid: account.uuid, email_address: account.email },
      organization: { uuid: organization.uuid }
    })
  }

  const route = (req: http.IncomingMessage, res: http.ServerResponse, path: string, body: Record<string, unknown>): number => {
    if (req.method === "POST" && path === "/v1/oauth/token") return token(res, body)
    if (req.method === "GET" && path === "/api/oauth/profile") {
      return json(res, 200, {
        account: { uuid: account.uuid, email: account.email, display_name: "Judge" },
        organization: {
          uuid: organization.uuid,
          organization_type: "claude_max",
          rate_limit_tier: "default_claude_max_20x"
        }
      })
    }
    if (req.method === "GET" && path === "/api/oauth/usage") {
      const resetsAt = new Date(Date.now() + 3_600_000).toISOString()
      return json(res, 200, {
        five_hour: { utilization: 12, resets_at: resetsAt },
        seven_day: { utilization: 34, resets_at: resetsAt }
      })
    }
    return json(res, 404, { type: "error", error: { type: "not_found_error", message: `no route for ${path}` } })
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = (req.url ?? "/").split("?")[0] ?? "/"
    const sni = (req.socket as tls.TLSSocket).servername
    // Recorded on arrival, so a client that exits mid-request is still counted.
    const record: Seen = {
      method: req.method ?? "",
      host: req.headers.host ?? "",
      sni: typeof sni === "string" ? sni : null,
      path,
      userAgent: req.headers["user-agent"] ?? "",
      bodyLength: 0,
      status: 0
    }
    seen.push(record)
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      record.bodyLength += chunk.length
    })
    req.on("error", () => res.destroy())
    req.on("end", () => {
      const body = parseBody(req, Buffer.concat(chunks).toString("utf8"))
      if (typeof body["grant_type"] === "string") record.grantType = body["grant_type"]
      if (typeof body["client_id"] === "string") record.clientId = body["client_id"]
      if (typeof body["scope"] === "string") record.scope = body["scope"]
      record.status = route(req, res, path, body)
    })
  }

  return {
    handler,
    seen,
    state,
    tokenPosts: () => seen.filter((r) => r.method === "POST" && r.path === "/v1/oauth/token")
  }
}

// Cleanup registry so a failing assertion never leaves a proxy or a temp HOME behind.
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const certDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tollgate-mitm-"))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
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
    const fake = makeFakeAnthropic()
    const proxy = await startProxy(fake.handler)
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`)

    const result = await getThroughTunnel(proxy, "api.anthropic.com", "/api/oauth/profile")

    expect(result.alpn).toBe("http/1.1")
    expect(result.status).toBe(200)
    expect(JSON.parse(result.body)).toMatchObject({ organization: { organization_type: "claude_max" } })
    expect(fake.seen).toEqual([
      expect.objectContaining({ method: "GET", host: "api.anthropic.com", sni: "api.anthropic.com", path: "/api/oauth/profile" })
    ])
    expect(proxy.tunnels.map((t) => [t.host, t.port])).toEqual([["api.anthropic.com", 443]])
  })

  it("refuses CONNECT to any other host or port with 403, and plain proxying with 405", async () => {
    const fake = makeFakeAnthropic()
    const proxy = await startProxy(fake.handler)

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
    expect(fake.seen).toEqual([])
  })

  it("survives a client that drops the TLS handshake, and close() is idempotent", async () => {
    const fake = makeFakeAnthropic()
    const proxy = await startProxy(fake.handler)

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

describe("Claude Code 2.1.330 refreshing through the proxy", () => {
  const seedExpiredStore = async (home: TempHome, refreshToken: string) => {
    const path = join(home.claudeDir, ".credentials.json")
    await writeFile(
      path,
      JSON.stringify({
        claudeAiOauth: {
          accessToken: randomToken("oat01"),
          refreshToken,
          expiresAt: Date.now() - 60 * 60 * 1000,
          scopes: ["user:inference", "user:profile", "user:sessions:claude_code"],
          subscriptionType: "max",
          rateLimitTier: "default_claude_max_20x"
        },
        mcpOAuth: {}
      }),
      { mode: 0o600 }
    )
    return path
  }

  const setUp = async () => {
    const fake = makeFakeAnthropic()
    const proxy = await startProxy(fake.handler)
    const home = await makeTempHome()
    cleanups.push(() => home.cleanup())
    const credentialsPath = await seedExpiredStore(home, fake.state.validRefresh)
    const env = { ...home.env, ...proxy.env }
    return { fake, proxy, home, credentialsPath, env }
  }

  const expectRotatedStore = async (credentialsPath: string, issued: { accessToken: string; refreshToken: string; expiresAt: number }) => {
    const document = JSON.parse(await readFile(credentialsPath, "utf8")) as Record<string, unknown>
    const oauth = document["claudeAiOauth"] as Record<string, unknown>
    // Compare booleans, not values, so a failure never prints a token.
    expect(oauth["accessToken"] === issued.accessToken, "stored access token is the issued one").toBe(true)
    expect(oauth["refreshToken"] === issued.refreshToken, "stored refresh token is the issued one").toBe(true)
    expect(Math.abs(Number(oauth["expiresAt"]) - issued.expiresAt)).toBeLessThan(10_000)
    expect(oauth["scopes"]).toEqual(GRANTED_SCOPE.split(" "))
    expect(oauth["subscriptionType"]).toBe("max")
    // A key Claude Code does not own inside the document survives its write-back.
    expect(document["mcpOAuth"]).toEqual({})
    expect((await stat(credentialsPath)).mode & 0o777).toBe(0o600)
  }

  it("refreshes an expired store with exactly one token POST and keeps foreign keys", async () => {
    const { fake, proxy, credentialsPath, env } = await setUp()

    const status = await claudeAuthStatus({ env, timeoutMs: 30_000 })

    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.json?.["loggedIn"]).toBe(true)
    expect(status.json?.["authMethod"]).toBe("claude.ai")

    const posts = fake.tokenPosts()
    expect(posts).toHaveLength(1)
    expect(posts[0]).toMatchObject({
      host: "platform.claude.com",
      sni: "platform.claude.com",
      grantType: "refresh_token",
      clientId: CLIENT_ID,
      status: 200
    })
    // Claude Code uses a bare HTTP-library UA here; `claude-code/…` or `Mozilla…` gets 429 upstream.
    expect(posts[0]?.userAgent).not.toMatch(/^(claude-code\/|Mozilla)/)
    // Observed on 2.1.330: after the refresh it reads the profile for plan and tier.
    expect(fake.seen.filter((r) => r.path === "/api/oauth/profile").length).toBeGreaterThanOrEqual(1)
    expect(fake.seen.every((r) => r.host === "platform.claude.com" || r.host === "api.anthropic.com")).toBe(true)
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1)

    expect(fake.state.issued).toHaveLength(1)
    await expectRotatedStore(credentialsPath, fake.state.issued[0]!)
  })

  it("lets only one of four parallel processes refresh a shared expired store", async () => {
    const { fake, credentialsPath, env } = await setUp()

    const results = await Promise.all(Array.from({ length: 4 }, () => claudeAuthStatus({ env, timeoutMs: 45_000 })))

    for (const result of results) {
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.json?.["loggedIn"]).toBe(true)
    }
    // Claude Code's `.oauth_refresh.lock` directory serialises the refresh; the others adopt the new token.
    expect(fake.tokenPosts()).toHaveLength(1)
    expect(fake.seen.filter((r) => r.status === 400)).toEqual([])
    expect(fake.state.issued).toHaveLength(1)
    await expectRotatedStore(credentialsPath, fake.state.issued[0]!)
  })
})
