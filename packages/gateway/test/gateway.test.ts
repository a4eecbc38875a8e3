// The gateway over real HTTP: a client on 127.0.0.1 → the gateway → the
// simulator on 127.0.0.1. The simulator's request log is the judge of what
// went upstream (which credential, how many refreshes and replays).
import { mkdtemp, rm, stat } from "node:fs/promises"
import { request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as Gateway from "../src/Gateway.js"
import { messageBody, start, type World } from "./support/world.js"

const within = async (options: Parameters<typeof start>[0], body: (world: World) => Promise<void>) => {
  const world = await start(options)
  try {
    await body(world)
  } finally {
    await world.close()
  }
}

/** A raw request, so Host and Origin can be anything. */
const raw = (url: string, headers: Record<string, string>, body = messageBody()) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(
      `${url}/v1/messages`,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (text += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      }
    )
    req.on("error", reject)
    req.end(body)
  })

const secretsIn = (world: World) =>
  [
    world.key,
    world.sim.account.accessToken,
    world.sim.account.refreshToken,
    world.sim.current().accessToken,
    world.sim.current().refreshToken
  ].filter((s): s is string => typeof s === "string" && s.length > 0)

describe("forwarding", () => {
  it("signs with the subscription bearer, not the gateway key; its own User-Agent; anthropic-beta merged", async () => {
    await within({}, async (world) => {
      const response = await world.send("/v1/messages", {
        headers: {
          "anthropic-beta": "fine-grained-tool-streaming-2025-05-14",
          "user-agent": "claude-cli/2.1.330 (external, cli)"
        }
      })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { type: string }
      expect(body.type).toBe("message")
      const seen = world.sim.log.filter((r) => r.route === "messages")
      expect(seen).toHaveLength(1)
      expect(seen[0]!.bearer).not.toBeNull()
      expect(seen[0]!.apiKey).toBeNull()
      expect(seen[0]!.userAgent).toMatch(/^tollgate\//)
      expect(seen[0]!.beta!.split(",")).toEqual(["fine-grained-tool-streaming-2025-05-14", "oauth-2025-04-20"])
    })
  })

  it("the same paths under /anthropic (Hermes), and Authorization: Bearer with the key", async () => {
    await within({}, async (world) => {
      const response = await world.send("/anthropic/v1/messages", {
        headers: { "x-api-key": "", authorization: `Bearer ${world.key}` }
      })
      expect(response.status).toBe(200)
      const count = await world.send("/anthropic/v1/messages/count_tokens")
      expect(await count.json()).toEqual({ input_tokens: 12 })
      expect(world.sim.count("messages")).toBe(2)
    })
  })

  it("a path outside /v1 is a 404 in Anthropic's envelope, never forwarded", async () => {
    await within({}, async (world) => {
      const response = await world.send("/oauth/token")
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe("not_found_error")
      expect(world.sim.log).toHaveLength(0)
    })
  })

  it("streams pass through as they arrive: the first event is read before the simulator has finished", async () => {
    await within({}, async (world) => {
      world.sim.setStreamPace(150)
      const response = await world.send("/v1/messages", { stream: true })
      expect(response.headers.get("content-type")).toContain("text/event-stream")
      const reader = response.body!.getReader()
      const first = await reader.read()
      const firstAt = Date.now()
      expect(new TextDecoder().decode(first.value)).toContain("event: message_start")
      let rest = ""
      for (;;) {
        const next = await reader.read()
        if (next.done) break
        rest += new TextDecoder().decode(next.value)
      }
      expect(rest).toContain("event: message_stop")
      const entry = world.sim.log.find((r) => r.route === "messages")!
      expect(entry.finishedAt).toBeDefined()
      expect(firstAt).toBeLessThan(entry.finishedAt!)
    })
  })
})

describe("acting on core's verdict", () => {
  it("an expired token's 401: one refresh, one replay of the buffered body, and the client sees only the 200", async () => {
    await within({ scenario: "expired-401" }, async (world) => {
      const response = await world.send("/v1/messages")
      expect(response.status).toBe(200)
      expect(world.sim.count("token")).toBe(1)
      expect(world.sim.count("messages")).toBe(2)
      const [first, second] = world.sim.log.filter((r) => r.route === "messages")
      expect(first!.body.bytes).toBe(second!.body.bytes)
    })
  })

  it("a token about to expire is refreshed ahead, once for 20 concurrent clients", async () => {
    await within(
      { scenario: { name: "near-expiry", summary: "expires in 30 s", account: { expiresInMs: 30_000 } } },
      async (world) => {
        const answers = await Promise.all(Array.from({ length: 20 }, () => world.send("/v1/messages")))
        expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200))
        expect(world.sim.count("token")).toBe(1)
      }
    )
  })

  it("a capped subscription moves to the next account before any byte reaches the client", async () => {
    await within({ scenario: "subscription-cap-5h", extra: 1 }, async (world) => {
      const response = await world.send("/v1/messages")
      expect(response.status).toBe(200)
      const bearers = world.sim.log.filter((r) => r.route === "messages").map((r) => r.bearer)
      expect(bearers).toHaveLength(2)
      expect(bearers[0]).not.toBe(bearers[1])
      expect(world.logs.join("\n")).toMatch(/account #2/)
    })
  })

  it("a long non-streaming answer (300 KB, past core's inspected prefix) reaches the client whole, as a 200", async () => {
    await within({}, async (world) => {
      const text = "word ".repeat(60_000)
      const long = JSON.stringify({
        id: "msg_long",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [{ type: "text", text }],
        stop_reason: "end_turn",
        usage: { input_tokens: 1, output_tokens: 60_000 }
      })
      world.sim.script("messages", { status: 200, headers: { "content-type": "application/json" }, body: long })
      const response = await world.send("/v1/messages")
      expect(response.status).toBe(200)
      const body = (await response.json()) as { type: string; content: ReadonlyArray<{ text: string }> }
      expect(body.type).toBe("message")
      expect(body.content[0]!.text).toBe(text)
      expect(world.sim.log.filter((r) => r.route === "messages")).toHaveLength(1)
    })
  })

  it("a stream that opens with event: error is judged before answering: the client gets core's verdict as an error answer, not a 200", async () => {
    await within({}, async (world) => {
      world.sim.script("messages", {
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: 'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Rate limited. Please try again later."}}\n\n'
      })
      const response = await world.send("/v1/messages", { stream: true })
      expect(response.status).toBe(429)
      const body = (await response.json()) as { error: { type: string; message: string } }
      expect(body.error.type).toBe("rate_limit_error")
      expect(body.error.message).not.toBe("Rate limited. Please try again later.")
      expect(body.error.message).toMatch(/throttl|rate limit/i)
    })
  })

  it("an event: error mid-stream is passed on carrying core's message (the SDKs raise it) and its verdict is recorded", async () => {
    await within({ scenario: "sse-rate-limit" }, async (world) => {
      const text = await (await world.send("/v1/messages", { stream: true })).text()
      expect(text).toContain("event: message_start")
      expect(text).toContain("event: error")
      expect(text).not.toContain("Rate limited. Please try again later.")
      const data = JSON.parse(/event: error\ndata: (.*)/.exec(text)![1]!) as {
        error: { type: string; message: string }
      }
      expect(data.error.type).toBe("rate_limit_error")
      expect(world.logs.some((l) => l.includes(data.error.message))).toBe(true)
      const status = (await (await world.send("/tollgate/status", { method: "GET", body: null })).json()) as {
        seen: ReadonlyArray<{ account: string; verdict: string }>
      }
      expect(status.seen.find((e) => e.account === "#1")?.verdict).toBe("RateLimited")
    })
  })

  it("no other account: the upstream status, Anthropic's envelope, core's message, no retry advice for a capped login", async () => {
    await within({ scenario: "subscription-cap-5h" }, async (world) => {
      const response = await world.send("/v1/messages")
      expect(response.status).toBe(429)
      const body = (await response.json()) as { type: string; error: { type: string; message: string } }
      expect(body.type).toBe("error")
      expect(body.error.type).toBe("rate_limit_error")
      expect(body.error.message).toMatch(/limit/i)
      expect(response.headers.get("x-should-retry")).toBe("false")
      expect(response.headers.get("retry-after")).toBeNull()
    })
  })

  it("a short throttle: the upstream 429 with retry-after, since waiting is worth it", async () => {
    await within({ scenario: "throttle-429", gateway: { retryAfterCapMs: 0 } }, async (world) => {
      const response = await world.send("/v1/messages")
      expect(response.status).toBe(429)
      expect(response.headers.get("x-should-retry")).toBe("true")
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0)
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/throttl/i)
    })
  })

  it("an org policy verdict is a 403 permission_error with core's message, and the refresh token is never spent", async () => {
    await within({ scenario: "org-policy-401" }, async (world) => {
      const response = await world.send("/v1/messages")
      const body = (await response.json()) as { error: { type: string; message: string } }
      expect(body.error.message).toMatch(/organization/i)
      expect(response.headers.get("x-should-retry")).toBe("false")
      expect(world.sim.count("token")).toBe(0)
    })
  })

  it("the upstream unreachable: a 502 whose message says so (a transport verdict), not a crash", async () => {
    await within({}, async (world) => {
      await world.sim.close()
      const response = await world.send("/v1/messages")
      expect(response.status).toBe(502)
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/could not be reached/)
    })
  })

  it("a body over the cap is refused with 413 before anything goes upstream", async () => {
    await within({ gateway: { maxBodyBytes: 1024 } }, async (world) => {
      const response = await world.send("/v1/messages", {
        body: JSON.stringify({ model: "m", filler: "x".repeat(4096) })
      })
      expect(response.status).toBe(413)
      expect(world.sim.log).toHaveLength(0)
    })
  })
})

describe("security", () => {
  it("no key or a wrong key → 401; nothing forwarded", async () => {
    await within({}, async (world) => {
      expect((await world.send("/v1/messages", { headers: { "x-api-key": "" } })).status).toBe(401)
      expect(
        (await world.send("/v1/messages", { headers: { "x-api-key": "sk-ant-api03-not-the-gateway-key" } })).status
      ).toBe(401)
      expect(
        (await world.send("/tollgate/status", { method: "GET", body: null, headers: { "x-api-key": "" } })).status
      ).toBe(401)
      expect(world.sim.log).toHaveLength(0)
    })
  })

  it("a foreign Host (DNS rebinding) or a browser Origin → 403 even with the right key", async () => {
    await within({}, async (world) => {
      const evil = await raw(world.gateway.url, { host: "attacker.example:7433", "x-api-key": world.key })
      expect(evil.status).toBe(403)
      const page = await raw(world.gateway.url, { origin: "https://attacker.example", "x-api-key": world.key })
      expect(page.status).toBe(403)
      const fine = await raw(world.gateway.url, { host: `localhost:${world.gateway.port}`, "x-api-key": world.key })
      expect(fine.status).toBe(200)
      expect(world.sim.count("messages")).toBe(1)
    })
  })

  it("listens on loopback only", async () => {
    await expect(
      Gateway.listen({ accounts: [], key: "k", settings: {} as never, port: 0, host: "0.0.0.0" })
    ).rejects.toThrow(/loopback/)
  })

  it("the gateway key and the subscription tokens appear in no log line, error or status report", async () => {
    await within({ scenario: "expired-401" }, async (world) => {
      await world.send("/v1/messages")
      await world.send("/v1/messages", { headers: { "x-api-key": "" } })
      await raw(world.gateway.url, { host: "evil.example", "x-api-key": world.key })
      const status = await (await world.send("/tollgate/status", { method: "GET", body: null })).text()
      const everything = [...world.logs, status].join("\n")
      for (const secret of secretsIn(world)) expect(everything.includes(secret)).toBe(false)
      expect(JSON.parse(status).gateway.apiBaseUrl).toBe(world.sim.url)
    })
  })
})

describe("the Unix socket", () => {
  it("--socket: the same gateway on a 0600 socket, the key still required; removed at stop", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tollgate-gw-sock-"))
    const socket = join(dir, "gateway.sock")
    try {
      await within({ gateway: { socket } }, async (world) => {
        expect((await stat(socket)).mode & 0o777).toBe(0o600)
        const over = (key: string) =>
          new Promise<number>((resolve, reject) => {
            const req = httpRequest(
              {
                socketPath: socket,
                path: "/v1/messages",
                method: "POST",
                headers: { host: "localhost", "content-type": "application/json", "x-api-key": key }
              },
              (res) => {
                res.resume()
                res.on("end", () => resolve(res.statusCode ?? 0))
              }
            )
            req.on("error", reject)
            req.end(messageBody())
          })
        expect(await over(world.key)).toBe(200)
        expect(await over("wrong")).toBe(401)
        await world.gateway.close(100)
        await expect(stat(socket)).rejects.toThrow()
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe("stopping", () => {
  it("a stop refuses new connections at once and lets a stream in flight finish", async () => {
    await within({}, async (world) => {
      world.sim.setStreamPace(100)
      const response = await world.send("/v1/messages", { stream: true })
      const closing = world.gateway.close(10_000)
      const text = await response.text()
      expect(text).toContain("event: message_stop")
      await closing
      await expect(world.send("/v1/messages")).rejects.toThrow()
    })
  })
})
