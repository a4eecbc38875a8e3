import { build } from "esbuild"
import { spawn, spawnSync } from "node:child_process"
import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import { createServer, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as Paths from "../src/Paths.js"
import * as Protocol from "../src/Protocol.js"
import * as DaemonServer from "../src/Server.js"
import * as Format from "../src/statusline/format.js"
import { BUDGET_MS, LINGER_MS, main, STDIN_IDLE_MS } from "../src/statusline/main.js"
import { parsePublished, parseStatusReply } from "../src/statusline/reply.js"

const NOW = new Date(2030, 0, 15, 13, 30, 0).getTime()
const MIN = 60_000
const ESC = "\u001b"
// Scheduling slack on a loaded 2-core machine; the budget itself is BUDGET_MS.
const MARGIN_MS = 60

const hhmm = (t: number): string => {
  const d = new Date(t)
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`
}

const w = (usedPercent: number, resetsAt: number | null = null): Protocol.Window => ({ usedPercent, resetsAt })

const view = (over: Partial<Format.View> = {}): Format.View => ({
  windows: { fiveHour: w(42.4), sevenDay: w(13) },
  daemon: "ok",
  verdict: null,
  until: null,
  ...over
})

const plain = { now: NOW, color: false }

describe("format", () => {
  it("prints both windows, rounded", () => {
    expect(Format.render(view(), plain)).toBe("🚦 5h:42% 7d:13%")
    expect(Format.render(view({ windows: { sevenDay: w(99.6) } }), plain)).toBe("🚦 7d:100%")
  })

  it("colours by the higher of the two values", () => {
    const colour = (five: number, seven: number) =>
      Format.render(view({ windows: { fiveHour: w(five), sevenDay: w(seven) } }), { now: NOW, color: true })
    expect(colour(10, 49)).toBe(`🚦 ${ESC}[32m5h:10% 7d:49%${ESC}[0m`)
    expect(colour(10, 50)).toContain(`${ESC}[33m`)
    expect(colour(79, 5)).toContain(`${ESC}[33m`)
    expect(colour(20, 80)).toContain(`${ESC}[31m`)
    expect(colour(95, 20)).toContain(`${ESC}[31m`)
  })

  it("uses no ANSI escape at all without colour, and honours NO_COLOR", () => {
    const line = Format.render(view({ verdict: "RateLimited", until: NOW + 5 * MIN }), plain)
    expect(line).not.toContain(ESC)
    expect(Format.colorEnabled({ NO_COLOR: "1" })).toBe(false)
    expect(Format.colorEnabled({})).toBe(true)
    // https://no-color.org: an empty value does not count.
    expect(Format.colorEnabled({ NO_COLOR: "" })).toBe(true)
  })

  it("appends the local reset time to a window resetting within the hour", () => {
    const soon = NOW + 35 * MIN
    const line = Format.render(
      view({ windows: { fiveHour: w(42, soon), sevenDay: w(13, NOW + 3 * 24 * 60 * MIN) } }),
      plain
    )
    expect(line).toBe(`🚦 5h:42%↻${hhmm(soon)} 7d:13%`)
    expect(Format.render(view({ windows: { fiveHour: w(42, NOW + 61 * MIN) } }), plain)).toBe("🚦 5h:42%")
  })

  it("names the weekday of a time more than 20 hours away", () => {
    const far = NOW + 2 * 24 * 60 * MIN
    expect(Format.clock(far, NOW)).toMatch(/^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) \d\d:\d\d$/)
    expect(Format.clock(NOW + 5 * MIN, NOW)).toBe(hhmm(NOW + 5 * MIN))
  })

  it("gives each verdict its label, and distinct problems distinct labels", () => {
    const until = NOW + 35 * MIN
    const expected: Record<string, string> = {
      MissingScope: "no usage scope",
      TokenExpired: "login expired",
      TokenInvalid: "re-login needed",
      TokenRevoked: "re-login needed",
      OrgPolicyDenied: "org blocks OAuth",
      RateLimited: `rate limited until ${hhmm(until)}`,
      EdgeBlocked: "blocked by Cloudflare",
      NoLogin: "no login",
      Transport: "api unreachable",
      ServerError: "api unreachable",
      Overloaded: "api unreachable"
    }
    for (const [verdict, text] of Object.entries(expected)) {
      expect(Format.label({ daemon: "ok", verdict, until }, NOW), verdict).toBe(text)
    }
    // One label per problem: the groups the brief merges are the only shared labels.
    const groups = [
      ["MissingScope"],
      ["TokenExpired"],
      ["TokenInvalid", "TokenRevoked"],
      ["OrgPolicyDenied"],
      ["RateLimited"],
      ["EdgeBlocked"],
      ["NoLogin"],
      ["Transport", "ServerError", "Overloaded"]
    ]
    const labels = groups.map((g) => new Set(g.map((v) => Format.label({ daemon: "ok", verdict: v, until }, NOW))))
    for (const set of labels) expect(set.size).toBe(1)
    const all = [
      ...labels.map((set) => [...set][0]),
      ...Object.values(Format.DAEMON_LABELS),
      Format.UNKNOWN_VERDICT_LABEL,
      Format.NO_DATA_LABEL
    ]
    expect(new Set(all).size).toBe(all.length)
    expect(Format.label({ daemon: "down", verdict: null, until: null }, NOW)).toBe("daemon down")
    expect(Format.label({ daemon: "ok", verdict: "SomethingNew", until: null }, NOW)).toBe("quota unavailable")
    expect(Format.label({ daemon: "ok", verdict: "constructor", until: null }, NOW)).toBe("quota unavailable")
    expect(Format.label({ daemon: "ok", verdict: "RateLimited", until: null }, NOW)).toBe("rate limited")
  })

  it("keeps the last numbers next to a label", () => {
    const until = NOW + 35 * MIN
    expect(Format.render(view({ verdict: "RateLimited", until }), plain)).toBe(
      `🚦 5h:42% 7d:13% · rate limited until ${hhmm(until)}`
    )
    expect(Format.render(view({ daemon: "down" }), plain)).toBe("🚦 5h:42% 7d:13% · daemon down")
    expect(Format.render(view({ daemon: "down", windows: {} }), plain)).toBe("🚦 daemon down")
    expect(Format.render(view({ windows: {} }), plain)).toBe("🚦 no usage yet")
    expect(Format.render(view({ windows: {}, verdict: "MissingScope" }), plain)).toBe("🚦 no usage scope")
  })

  it("merges daemon windows over stdin's, window by window", () => {
    expect(Format.merge({ fiveHour: w(50) }, { fiveHour: w(40), sevenDay: w(10) })).toEqual({
      fiveHour: w(50),
      sevenDay: w(10)
    })
    expect(Format.merge(undefined, undefined)).toEqual({})
  })
})

describe("parseStatusReply", () => {
  const quota: Protocol.Quota = {
    windows: { fiveHour: w(55, 1), sevenDay: w(20) },
    source: "usage-endpoint",
    observedAt: 5,
    verdict: null,
    until: null,
    message: null
  }
  it("reads a v1 status reply", () => {
    expect(parseStatusReply(JSON.stringify({ v: 1, ok: true, op: "status", quota }))).toEqual(quota)
  })
  it("refuses anything else", () => {
    expect(parseStatusReply("nope")).toBeNull()
    expect(parseStatusReply(JSON.stringify({ v: 2, ok: true, op: "status", quota }))).toBeNull()
    expect(parseStatusReply(JSON.stringify({ v: 1, ok: false, error: { code: "internal", message: "x" } }))).toBeNull()
    expect(parseStatusReply(JSON.stringify({ v: 1, ok: true, op: "pong", pid: 1 }))).toBeNull()
  })
  it("clamps percentages out of range and drops ones that are not numbers", () => {
    const bad = { ...quota, windows: { fiveHour: { usedPercent: -1, resetsAt: null }, sevenDay: { usedPercent: "9" } } }
    expect(parseStatusReply(JSON.stringify({ v: 1, ok: true, op: "status", quota: bad }))?.windows).toEqual({
      fiveHour: { usedPercent: 0, resetsAt: null }
    })
  })
})

// Claude Code's statusLine stdin, as reference section 4 describes it.
const claudeInput = (fiveHour: number, sevenDay: number) => ({
  session_id: "0b6c3f2e-1111-4222-8333-444455556666",
  transcript_path: "/tmp/project/transcript.jsonl",
  cwd: "/tmp/project",
  model: { id: "claude-opus-4-1", display_name: "Opus" },
  workspace: { current_dir: "/tmp/project", project_dir: "/tmp/project" },
  version: "2.1.330",
  cost: { total_cost_usd: 0.42 },
  context_window: { used_percentage: 12 },
  rate_limits: {
    five_hour: { used_percentage: fiveHour, resets_at: Math.floor((NOW + 4 * 60 * MIN) / 1000) },
    seven_day: { used_percentage: sevenDay, resets_at: Math.floor((NOW + 5 * 24 * 60 * MIN) / 1000) }
  }
})

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

describe("the bundled client as a process", () => {
  const MAIN = fileURLToPath(new URL("../src/statusline/main.ts", import.meta.url))
  let root: string
  let bundle: string
  let inputs: Array<string>

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "tg-sl-proc-"))
    bundle = join(root, "statusline.cjs")
    const result = await build({
      stdin: { contents: `import { run } from ${JSON.stringify(MAIN)}\nvoid run()\n`, resolveDir: root, loader: "ts" },
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      metafile: true,
      logLevel: "silent"
    })
    inputs = Object.keys(result.metafile.inputs)
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  /**
   * Spawns the bundle; `stdin` is written, and the pipe closed at once
   * (`true`), after that many ms, or never (`false`; "ignore" gives it
   * /dev/null). `outMs` is when the line arrived.
   */
  const spawnClient = (stdin: string, close: boolean | number | "ignore") =>
    new Promise<{
      code: number | null
      signal: string | null
      stdout: string
      stderr: string
      ms: number
      outMs: number
    }>((resolve, reject) => {
      const started = performance.now()
      const child = spawn(process.execPath, [bundle], {
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          HOME: join(root, "home"),
          XDG_RUNTIME_DIR: join(root, "run"),
          NO_COLOR: "1"
        },
        stdio: [close === "ignore" ? "ignore" : "pipe", "pipe", "pipe"],
        timeout: 10_000
      })
      let stdout = ""
      let stderr = ""
      let outMs = NaN
      child.stdout!.setEncoding("utf8").on("data", (c: string) => {
        if (stdout === "") outMs = performance.now() - started
        stdout += c
      })
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
      child.on("error", reject)
      child.on("close", (code, signal) =>
        resolve({ code, signal, stdout, stderr, ms: performance.now() - started, outMs })
      )
      if (child.stdin === null) return
      child.stdin.on("error", () => {})
      if (close === true) child.stdin.end(stdin)
      else {
        child.stdin.write(stdin)
        if (typeof close === "number") setTimeout(() => child.stdin?.end(), close)
      }
    })

  it("imports nothing from node_modules (no Effect on the hot path)", () => {
    expect(inputs.filter((i) => i.includes("node_modules"))).toEqual([])
    expect(inputs.map((i) => i.split("/").slice(-2).join("/")).sort()).toEqual(
      [
        "<stdin>",
        "src/Paths.ts",
        "src/Protocol.ts",
        "src/RuntimeDirectory.ts",
        "statusline/format.ts",
        "statusline/main.ts",
        "statusline/reply.ts",
        // @tollgate/files, for the ownership checks and the capped read: plain node:fs, no node:crypto.
        "src/PrivateDirectory.ts",
        "src/SafeRead.ts",
        "src/UnsafePath.ts",
        "internal/stats.ts"
      ].sort()
    )
  })

  it("exits 0 at once when stdin stays open after a complete document", async () => {
    const r = await spawnClient(JSON.stringify(claudeInput(42, 13)), false)
    expect(r).toMatchObject({ code: 0, stdout: "🚦 5h:42% 7d:13% · daemon down\n", stderr: "" })
    // Process start-up plus well under the budget: it did not wait for EOF.
    expect(r.ms).toBeLessThan(5_000)
  })

  it("exits 0 at once when stdin is empty or /dev/null", async () => {
    for (const close of [true, "ignore"] as const) {
      const r = await spawnClient("", close)
      expect(r).toMatchObject({ code: 0, signal: null, stdout: "🚦 daemon down\n", stderr: "" })
      expect(r.ms).toBeLessThan(5_000)
    }
  })

  it("prints on time when stdin stays open and silent, then exits 0 when it ends, or ends itself after LINGER_MS", async () => {
    // The read of a silent stdin cannot be cancelled: the line goes out after the idle wait, the process waits for stdin.
    const ended = await spawnClient("", LINGER_MS / 2 + 100)
    expect(ended).toMatchObject({ code: 0, signal: null, stdout: "🚦 daemon down\n", stderr: "" })
    expect(ended.ms - ended.outMs).toBeGreaterThan(LINGER_MS / 4)
    const silent = await spawnClient("", false)
    expect(silent).toMatchObject({ code: null, signal: "SIGKILL", stdout: "🚦 daemon down\n", stderr: "" })
    expect(silent.ms - silent.outMs).toBeGreaterThanOrEqual(LINGER_MS - 50)
    expect(silent.ms).toBeLessThan(LINGER_MS + 5_000)
  })
})
