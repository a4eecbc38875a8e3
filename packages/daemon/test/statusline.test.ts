import { spawnSync } from "node:child_process"
import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import { createServer, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as Paths from "../src/Paths.js"
import * as Protocol from "../src/Protocol.js"
import * as DaemonServer from "../src/Server.js"
import { BUDGET_MS, main, STDIN_IDLE_MS } from "../src/statusline/main.js"
import { parsePublished } from "../src/statusline/reply.js"
import { claudeInput, MIN, NOW } from "./support/claudeInput.js"

const ESC = "\u001b"
// Scheduling slack on a loaded 2-core machine; the budget itself is BUDGET_MS.
const MARGIN_MS = 60

const hhmm = (t: number): string => {
  const d = new Date(t)
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`
}

const w = (usedPercent: number, resetsAt: number | null = null): Protocol.Window => ({ usedPercent, resetsAt })

interface Captured {
  readonly line: string
  readonly written: string
  readonly elapsed: number
}

describe("main", () => {
  let root: string
  let env: Record<string, string>
  let servers: Array<Server>

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "tg-sl-"))
    // Never the real HOME: every path the client derives lives under root.
    env = {
      HOME: join(root, "home"),
      XDG_RUNTIME_DIR: join(root, "run"),
      XDG_STATE_HOME: join(root, "state"),
      NO_COLOR: "1"
    }
    servers = []
  })
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    await rm(root, { recursive: true, force: true })
  })

  /** Runs main() with a stdin fed by `feed` (which may never end it). */
  const run = async (
    feed: (stdin: PassThrough) => void,
    extraEnv: Record<string, string | undefined> = {}
  ): Promise<Captured> => {
    const stdin = new PassThrough()
    let written = ""
    const started = performance.now()
    feed(stdin)
    const line = await main({
      stdin,
      stdout: { write: (s: string) => (written += s) },
      env: { ...env, ...extraEnv },
      now: () => NOW
    })
    return { line, written, elapsed: performance.now() - started }
  }

  /** A fake daemon on the socket the client will use; `answer` decides what it does with each request. */
  const fakeDaemon = async (answer: (request: unknown, socket: Socket) => void): Promise<Array<unknown>> => {
    const paths = Paths.resolve(env)
    await mkdir(paths.runtimeDir, { recursive: true, mode: 0o700 })
    const requests: Array<unknown> = []
    const server = createServer((socket) => {
      let buf = ""
      socket.setEncoding("utf8").on("data", (chunk: string) => {
        buf += chunk
        const nl = buf.indexOf("\n")
        if (nl < 0) return
        const request: unknown = JSON.parse(buf.slice(0, nl))
        requests.push(request)
        answer(request, socket)
      })
      socket.on("error", () => {})
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(paths.socket, resolve))
    return requests
  }

  const quotaReply = (quota: Partial<Protocol.Quota>) =>
    `${JSON.stringify({
      v: 1,
      ok: true,
      op: "status",
      quota: { windows: {}, source: null, observedAt: null, verdict: null, until: null, message: null, ...quota }
    })}\n`

  it("returns within the budget when stdin never closes and never sends anything", async () => {
    const r = await run(() => {})
    expect(r.line).toBe("🚦 daemon down")
    expect(r.elapsed).toBeLessThan(BUDGET_MS + MARGIN_MS)
    expect(r.elapsed).toBeGreaterThanOrEqual(STDIN_IDLE_MS - 5)
  })

  it("stops reading at the first complete document even if stdin stays open", async () => {
    const r = await run((stdin) => {
      const text = JSON.stringify(claudeInput(42, 13))
      // In two chunks, as a pipe may deliver it.
      stdin.write(text.slice(0, 100))
      setTimeout(() => stdin.write(text.slice(100)), 5)
    })
    expect(r.line).toBe("🚦 5h:42% 7d:13% · daemon down")
    expect(r.written).toBe(`${r.line}\n`)
    expect(r.elapsed).toBeLessThan(BUDGET_MS + MARGIN_MS)
  })

  it("survives garbage on stdin", async () => {
    const r = await run((stdin) => stdin.end("not json {{{ \u0000"))
    expect(r.line).toBe("🚦 daemon down")
    const r2 = await run((stdin) => stdin.end("[1,2,3]"))
    expect(r2.line).toBe("🚦 daemon down")
  })

  it("uses stdin's numbers and says `daemon down` when there is no socket", async () => {
    const r = await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))
    expect(r.line).toBe("🚦 5h:42% 7d:13% · daemon down")
  })

  it("prints colour unless NO_COLOR is set", async () => {
    const coloured = await run((stdin) => stdin.end(JSON.stringify(claudeInput(85, 13))), { NO_COLOR: undefined })
    expect(coloured.line).toContain(`${ESC}[31m`)
    const uncoloured = await run((stdin) => stdin.end(JSON.stringify(claudeInput(85, 13))))
    expect(uncoloured.written).not.toContain(ESC)
  })

  it("prints the daemon's numbers and forwards stdin's rate limits to it", async () => {
    const requests = await fakeDaemon((_, socket) =>
      socket.write(quotaReply({ windows: { fiveHour: w(55), sevenDay: w(20) }, source: "usage-endpoint" }))
    )
    const r = await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))
    expect(r.line).toBe("🚦 5h:55% 7d:20%")
    expect(requests).toEqual([
      {
        v: 1,
        op: "status",
        rateLimits: {
          fiveHour: { usedPercent: 42, resetsAt: Math.floor((NOW + 4 * 60 * MIN) / 1000) * 1000 },
          sevenDay: { usedPercent: 13, resetsAt: Math.floor((NOW + 5 * 24 * 60 * MIN) / 1000) * 1000 }
        },
        sessionId: "0b6c3f2e-1111-4222-8333-444455556666"
      }
    ])
  })

  it("shows the daemon's verdict next to the last numbers", async () => {
    const until = NOW + 35 * MIN
    await fakeDaemon((_, socket) =>
      socket.write(quotaReply({ windows: { fiveHour: w(61), sevenDay: w(20) }, verdict: "RateLimited", until }))
    )
    const r = await run((stdin) => stdin.end("{}"))
    expect(r.line).toBe(`🚦 5h:61% 7d:20% · rate limited until ${hhmm(until)}`)
  })

  it("falls back to stdin's numbers when the daemon answers with an error", async () => {
    await fakeDaemon((_, socket) =>
      socket.end(`${JSON.stringify({ v: 1, ok: false, error: { code: "internal", message: "x" } })}\n`)
    )
    const r = await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))
    expect(r.line).toBe("🚦 5h:42% 7d:13% · daemon error")
  })

  it("still prints within the budget when the daemon never answers", async () => {
    await fakeDaemon(() => {})
    const r = await run((stdin) => stdin.write(JSON.stringify(claudeInput(42, 13))))
    expect(r.line).toBe("🚦 5h:42% 7d:13% · daemon slow")
    expect(r.elapsed).toBeLessThan(BUDGET_MS + MARGIN_MS)
    expect(r.elapsed).toBeGreaterThanOrEqual(BUDGET_MS - 10)
  })

  it("speaks the real daemon server's protocol", async () => {
    const seen: Array<Protocol.Request> = []
    const server = await DaemonServer.start({
      socketPath: Paths.resolve(env).socket,
      handle: async (request) => {
        seen.push(request)
        const quota: Protocol.Quota = {
          windows: { fiveHour: w(71), sevenDay: w(33) },
          source: "headers",
          observedAt: NOW,
          verdict: "TokenExpired",
          until: null,
          message: "The login has expired."
        }
        return { v: 1, ok: true, op: "status", quota }
      }
    })
    try {
      const r = await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))
      expect(r.line).toBe("🚦 5h:71% 7d:33% · login expired")
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({
        v: 1,
        op: "status",
        rateLimits: { fiveHour: { usedPercent: 42 }, sevenDay: { usedPercent: 13 } }
      })
    } finally {
      await server.close()
    }
  })

  it("keeps the whole budget when both stdin and the daemon stall", async () => {
    await fakeDaemon(() => {})
    const r = await run(() => {})
    expect(r.line).toBe("🚦 daemon slow")
    expect(r.elapsed).toBeLessThan(BUDGET_MS + MARGIN_MS)
  })

  describe("the daemon's published status", () => {
    const forwarded = Protocol.fromStatuslineInput(claudeInput(42, 13))!
    const publishedQuota: Protocol.Quota = {
      windows: { fiveHour: w(57), sevenDay: w(21) },
      source: "usage-endpoint",
      observedAt: NOW - 60_000,
      verdict: null,
      until: null,
      message: null
    }
    /** Writes the file the daemon publishes; by default fresh, from a live pid, having seen claudeInput(42, 13). */
    const publish = async (over: Partial<Protocol.Published> = {}, text?: string): Promise<void> => {
      const paths = Paths.resolve(env)
      await mkdir(paths.runtimeDir, { recursive: true, mode: 0o700 })
      const published: Protocol.Published = {
        v: 1,
        pid: process.pid,
        answeredAt: NOW - 2_000,
        quota: publishedQuota,
        seen: Protocol.snapshotKey(forwarded),
        ...over
      }
      await writeFile(paths.published, text ?? JSON.stringify(published), { mode: 0o600 })
    }
    /** A daemon answering 66/22 on the socket, counting connections. */
    const answering = async () => {
      const requests = await fakeDaemon((_, socket) =>
        socket.write(quotaReply({ windows: { fiveHour: w(66), sevenDay: w(22) } }))
      )
      const counted = { connections: 0, requests }
      servers.at(-1)!.on("connection", () => counted.connections++)
      return counted
    }

    it("is the answer while stdin brings nothing new: not one connection", async () => {
      const daemon = await answering()
      await publish()
      expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe("🚦 5h:57% 7d:21%")
      // No rate_limits yet (before Claude Code's first API response): nothing to forward either.
      expect((await run((stdin) => stdin.end("{}"))).line).toBe("🚦 5h:57% 7d:21%")
      await publish({ quota: { ...publishedQuota, verdict: "MissingScope" } })
      expect((await run((stdin) => stdin.end("{}"))).line).toBe("🚦 5h:57% 7d:21% · no usage scope")
      expect(daemon.connections).toBe(0)
    })

    it("asks, forwarding them, when stdin's rate_limits are news to the daemon", async () => {
      const daemon = await answering()
      await publish()
      const r = await run((stdin) => stdin.end(JSON.stringify(claudeInput(43, 13))))
      expect(r.line).toBe("🚦 5h:66% 7d:22%")
      expect(daemon.requests).toMatchObject([
        { op: "status", rateLimits: { fiveHour: { usedPercent: 43 }, sevenDay: { usedPercent: 13 } } }
      ])
    })

    it("asks when the answer is older than PUBLISHED_FRESH_MS, or dated in the future", async () => {
      const daemon = await answering()
      for (const answeredAt of [NOW - Protocol.PUBLISHED_FRESH_MS - 1, NOW + 5_000]) {
        await publish({ answeredAt })
        expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe("🚦 5h:66% 7d:22%")
      }
      expect(daemon.requests).toHaveLength(2)
    })

    it("asks when the daemon that published it is gone, and says so when nobody answers", async () => {
      const gone = spawnSync(process.execPath, ["-e", "0"]).pid!
      const daemon = await answering()
      await publish({ pid: gone })
      expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe("🚦 5h:66% 7d:22%")
      expect(daemon.requests).toHaveLength(1)
      // A crashed daemon: its file and even a live pid are left, its socket is not.
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
      servers = []
      await publish()
      expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe(
        "🚦 5h:42% 7d:13% · daemon down"
      )
    })

    // Issue 11: on a shared XDG_RUNTIME_DIR another user's tollgate/ must not be read, asked or told anything.
    // chown to another uid needs root; the suite runs as root in CI and here.
    it.runIf(process.geteuid?.() === 0)(
      "treats another user's runtime directory as daemon down: reads nothing, connects to nothing",
      async () => {
        const daemon = await answering()
        await publish()
        const { runtimeDir } = Paths.resolve(env)
        await chown(runtimeDir, 12345, 12345)
        // Nothing new (would read their status) and news (would ask their daemon): both are `daemon down`.
        expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe(
          "🚦 5h:42% 7d:13% · daemon down"
        )
        expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(43, 13))))).line).toBe(
          "🚦 5h:43% 7d:13% · daemon down"
        )
        expect(daemon.connections).toBe(0)
        // Ours again: the same daemon is read and asked as before.
        await chown(runtimeDir, 0, 0)
        expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe("🚦 5h:57% 7d:21%")
        expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(43, 13))))).line).toBe("🚦 5h:66% 7d:22%")
        expect(daemon.connections).toBe(1)
      }
    )

    it.runIf(process.geteuid?.() === 0)("treats a status.json of another user's as daemon down", async () => {
      const daemon = await answering()
      await publish()
      await chown(Paths.resolve(env).published, 12345, 12345)
      expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(43, 13))))).line).toBe(
        "🚦 5h:43% 7d:13% · daemon down"
      )
      expect(daemon.connections).toBe(0)
    })

    it("treats a symlinked runtime directory as daemon down", async () => {
      const elsewhere = join(root, "elsewhere")
      await mkdir(elsewhere, { mode: 0o700 })
      await mkdir(env["XDG_RUNTIME_DIR"]!, { recursive: true })
      await symlink(elsewhere, Paths.resolve(env).runtimeDir)
      const daemon = await answering()
      await publish()
      expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line).toBe(
        "🚦 5h:42% 7d:13% · daemon down"
      )
      expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(43, 13))))).line).toBe(
        "🚦 5h:43% 7d:13% · daemon down"
      )
      expect(daemon.connections).toBe(0)
    })

    it("ignores a file that is not a v1 published status, or is too large, and asks", async () => {
      const daemon = await answering()
      const valid = {
        v: 1,
        pid: process.pid,
        answeredAt: NOW,
        quota: publishedQuota,
        seen: Protocol.snapshotKey(forwarded)
      }
      const texts = [
        "not json {{",
        JSON.stringify({ ...valid, v: 2 }),
        JSON.stringify({ ...valid, pid: -1 }),
        JSON.stringify({ ...valid, quota: "none" }),
        JSON.stringify({ ...valid, pad: "x".repeat(Protocol.PUBLISHED_MAX_BYTES) })
      ]
      for (const text of texts) {
        await publish({}, text)
        expect((await run((stdin) => stdin.end(JSON.stringify(claudeInput(42, 13))))).line, text.slice(0, 40)).toBe(
          "🚦 5h:66% 7d:22%"
        )
      }
      expect(daemon.requests).toHaveLength(texts.length)
      // The same object, well-formed and small, is used: the cases above fail for their one difference.
      expect(parsePublished(JSON.stringify(valid))).toEqual(valid)
    })
  })
})
