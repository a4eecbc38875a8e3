// Percentages are clamped to 0..100, and non-finite ones dropped, where they
// come in — Claude Code's stdin, a request to the daemon, the daemon's reply
// and published status, unified headers, a restored state — so no consumer
// prints `-5%` or `1e+300%`.
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import * as Schema from "effect/Schema"
import { afterEach, describe, expect, it } from "vitest"
import * as Protocol from "../src/Protocol.js"
import * as Quota from "../src/Quota.js"
import { main } from "../src/statusline/main.js"
import { parsePublished, parseStatusReply } from "../src/statusline/reply.js"

// Written as JSON text: `1e999` is how a non-finite number arrives (JSON.parse makes it Infinity).
const stdinDoc = (five: string, seven: string) =>
  `{"session_id":"s","rate_limits":{"five_hour":{"used_percentage":${five},"resets_at":1900000000},"seven_day":{"used_percentage":${seven}}}}`

describe("used percentages", () => {
  it("are clamped to 0..100; NaN, ±Infinity, strings and null count as absent", () => {
    expect([-5, -0, 0, 42.5, 100, 100.4, 1e300].map(Protocol.usedPercent)).toEqual([0, 0, 0, 42.5, 100, 100, 100])
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "50", null, undefined, {}]) {
      expect(Protocol.usedPercent(bad)).toBeUndefined()
    }
  })

  it("from Claude Code's stdin", () => {
    const windows = (five: string, seven: string) => Protocol.fromStatuslineInput(JSON.parse(stdinDoc(five, seven)))
    expect(windows("-5", "1e300")).toEqual({
      fiveHour: { usedPercent: 0, resetsAt: 1_900_000_000_000 },
      sevenDay: { usedPercent: 100, resetsAt: null }
    })
    expect(windows("1e999", "-1e999")).toBeUndefined()
    expect(windows('"NaN"', "null")).toBeUndefined()
    expect(windows("1e999", "7")).toEqual({ sevenDay: { usedPercent: 7, resetsAt: null } })
  })

  it("in a status request the daemon receives", () => {
    const request = Protocol.parseRequest({
      v: 1,
      op: "status",
      rateLimits: { fiveHour: { usedPercent: -5, resetsAt: null }, sevenDay: { usedPercent: 1e300, resetsAt: 1 } }
    })
    expect(request).toEqual({
      v: 1,
      op: "status",
      rateLimits: { fiveHour: { usedPercent: 0, resetsAt: null }, sevenDay: { usedPercent: 100, resetsAt: 1 } }
    })
    expect(
      Protocol.parseRequest(JSON.parse('{"v":1,"op":"status","rateLimits":{"fiveHour":{"usedPercent":1e999}}}'))
    ).toEqual({
      v: 1,
      op: "status",
      rateLimits: {}
    })
  })

  it("in the daemon's reply and published status", () => {
    const quota =
      '{"windows":{"fiveHour":{"usedPercent":-5,"resetsAt":null},"sevenDay":{"usedPercent":1e999,"resetsAt":null}},"source":"statusline","observedAt":1,"verdict":null,"until":null,"message":null}'
    expect(parseStatusReply(`{"v":1,"ok":true,"op":"status","quota":${quota}}`)?.windows).toEqual({
      fiveHour: { usedPercent: 0, resetsAt: null }
    })
    expect(parsePublished(`{"v":1,"pid":42,"answeredAt":1,"seen":null,"quota":${quota}}`)?.quota.windows).toEqual({
      fiveHour: { usedPercent: 0, resetsAt: null }
    })
  })

  it("from unified headers and a restored state", () => {
    expect(Quota.fromHeaders({ "anthropic-ratelimit-unified-5h-utilization": "1.5" })).toEqual({
      fiveHour: { usedPercent: 100, resetsAt: null }
    })
    const snapshot = Schema.decodeUnknownSync(Quota.Snapshot)({
      windows: { fiveHour: { usedPercent: -5, resetsAt: null }, sevenDay: { usedPercent: 1e300, resetsAt: null } },
      source: "statusline",
      observedAt: 1,
      fingerprint: null
    })
    expect(snapshot.windows).toEqual({
      fiveHour: { usedPercent: 0, resetsAt: null },
      sevenDay: { usedPercent: 100, resetsAt: null }
    })
  })
})

describe("the statusline line", () => {
  const roots: Array<string> = []
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })))
  })

  const render = async (text: string): Promise<string> => {
    const root = await mkdtemp(join(tmpdir(), "tg-sl-numbers-"))
    roots.push(root)
    const stdin = new PassThrough()
    stdin.end(text)
    // No daemon: the numbers come from stdin alone. Never the real HOME.
    const env = {
      HOME: join(root, "home"),
      XDG_RUNTIME_DIR: join(root, "run"),
      XDG_STATE_HOME: join(root, "state"),
      NO_COLOR: "1"
    }
    return main({ stdin, stdout: { write: () => true }, env, now: () => Date.UTC(2030, 0, 1) })
  }

  it("never shows a negative, huge or non-finite percentage", async () => {
    expect(await render(stdinDoc("-5", "1e300"))).toBe("🚦 5h:0% 7d:100% · daemon down")
    expect(await render(stdinDoc("1e999", "42"))).toBe("🚦 7d:42% · daemon down")
    expect(await render(stdinDoc('"NaN"', "-1e999"))).toBe("🚦 daemon down")
  })
})
