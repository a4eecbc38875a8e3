import { describe, expect, it } from "vitest"
import type * as Protocol from "../src/Protocol.js"
import * as Format from "../src/statusline/format.js"
import { parseStatusReply } from "../src/statusline/reply.js"

const NOW = new Date(2030, 0, 15, 13, 30, 0).getTime()
const MIN = 60_000
const ESC = "\u001b"
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
