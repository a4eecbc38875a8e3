import { describe, expect, it } from "@effect/vitest"
import * as UnifiedHeaders from "../src/UnifiedHeaders.js"

const RESET_S = 1767272400
const RESET_MS = RESET_S * 1000

const full = {
  "anthropic-ratelimit-unified-status": "allowed_warning",
  "anthropic-ratelimit-unified-representative-claim": "seven_day",
  "anthropic-ratelimit-unified-reset": String(RESET_S),
  "anthropic-ratelimit-unified-5h-utilization": "0.42",
  "anthropic-ratelimit-unified-5h-reset": String(RESET_S - 3600),
  "anthropic-ratelimit-unified-7d-utilization": "0.13",
  "anthropic-ratelimit-unified-7d-reset": String(RESET_S + 86_400)
}

describe("UnifiedHeaders.parse", () => {
  it("reads every header into typed windows, status, claim and reset", () => {
    expect(UnifiedHeaders.parse(full)).toEqual({
      fiveHour: { utilization: 0.42, resetsAt: RESET_MS - 3_600_000 },
      sevenDay: { utilization: 0.13, resetsAt: RESET_MS + 86_400_000 },
      status: "allowed_warning",
      representativeClaim: "seven_day",
      resetsAt: RESET_MS
    })
  })

  it("reads a fetch Headers the same way, whatever the names' case", () => {
    const headers = new Headers(Object.entries(full).map(([name, value]) => [name.toUpperCase(), value]))
    expect(UnifiedHeaders.parse(headers)).toEqual(UnifiedHeaders.parse(full))
  })

  it("reports nothing for no headers", () => {
    const empty = { fiveHour: null, sevenDay: null, status: null, representativeClaim: null, resetsAt: null }
    expect(UnifiedHeaders.parse({})).toEqual(empty)
    expect(UnifiedHeaders.parse(new Headers())).toEqual(empty)
    expect(UnifiedHeaders.parse({ "retry-after": "10", get: "not a function" } as Record<string, string>)).toEqual(
      empty
    )
  })

  it.each([
    ["anthropic-ratelimit-unified-5h-utilization", "fiveHour", "utilization"],
    ["anthropic-ratelimit-unified-7d-utilization", "sevenDay", "utilization"],
    ["anthropic-ratelimit-unified-5h-reset", "fiveHour", "resetsAt"],
    ["anthropic-ratelimit-unified-7d-reset", "sevenDay", "resetsAt"]
  ] as const)("%s alone gives its window, the other field null", (name, window, field) => {
    const parsed = UnifiedHeaders.parse({ [name]: "1" })
    const other = window === "fiveHour" ? "sevenDay" : "fiveHour"
    expect(parsed[other]).toBeNull()
    expect(parsed[window]).toEqual(
      field === "utilization" ? { utilization: 1, resetsAt: null } : { utilization: null, resetsAt: 1000 }
    )
  })

  it("keeps only the known statuses, exactly as sent", () => {
    const status = (value: string) => UnifiedHeaders.parse({ "anthropic-ratelimit-unified-status": value }).status
    expect(status("allowed")).toBe("allowed")
    expect(status("allowed_warning")).toBe("allowed_warning")
    expect(status("rejected")).toBe("rejected")
    expect(status("REJECTED")).toBeNull()
    expect(status("throttled")).toBeNull()
    expect(status("")).toBeNull()
  })

  it("keeps the representative claim as sent", () => {
    expect(
      UnifiedHeaders.parse({ "anthropic-ratelimit-unified-representative-claim": "seven_day_opus" }).representativeClaim
    ).toBe("seven_day_opus")
  })

  it("clamps utilization above 1 and keeps 0", () => {
    const five = (value: string) =>
      UnifiedHeaders.parse({ "anthropic-ratelimit-unified-5h-utilization": value }).fiveHour
    expect(five("1.5")).toEqual({ utilization: 1, resetsAt: null })
    expect(five("100")).toEqual({ utilization: 1, resetsAt: null })
    expect(five("0")).toEqual({ utilization: 0, resetsAt: null })
    expect(five(" 0.5 ")).toEqual({ utilization: 0.5, resetsAt: null })
  })

  it.each([
    "",
    " ",
    "abc",
    "0.5%",
    "-0.2",
    "-0",
    "NaN",
    "Infinity",
    "1e-2",
    "1e999",
    "0x1",
    ".5",
    "5.",
    "1,5",
    "9".repeat(400)
  ])("drops a utilization of %j", (value) => {
    const parsed = UnifiedHeaders.parse({
      "anthropic-ratelimit-unified-5h-utilization": value,
      "anthropic-ratelimit-unified-7d-utilization": value
    })
    expect(parsed.fiveHour).toBeNull()
    expect(parsed.sevenDay).toBeNull()
  })

  it("reads resets as epoch seconds, fractions rounded to the millisecond", () => {
    expect(UnifiedHeaders.parse({ "anthropic-ratelimit-unified-reset": "1767272400.1234" }).resetsAt).toBe(
      1767272400123
    )
    expect(UnifiedHeaders.parse({ "anthropic-ratelimit-unified-reset": "0" }).resetsAt).toBe(0)
    // The latest time a Date can hold is kept; a second later is not.
    expect(UnifiedHeaders.parse({ "anthropic-ratelimit-unified-reset": "8640000000000" }).resetsAt).toBe(8.64e15)
    expect(UnifiedHeaders.parse({ "anthropic-ratelimit-unified-reset": "8640000000001" }).resetsAt).toBeNull()
  })

  it.each(["", "abc", "-1", "NaN", "Infinity", "1e9", "2026-01-01T00:00:00Z", "9".repeat(20), "9".repeat(400)])(
    "drops a reset of %j",
    (value) => {
      const parsed = UnifiedHeaders.parse({
        "anthropic-ratelimit-unified-reset": value,
        "anthropic-ratelimit-unified-5h-reset": value,
        "anthropic-ratelimit-unified-7d-reset": value
      })
      expect(parsed.resetsAt).toBeNull()
      expect(parsed.fiveHour).toBeNull()
      expect(parsed.sevenDay).toBeNull()
    }
  )

  it("never throws on odd records", () => {
    const odd = Object.create(null) as Record<string, string>
    odd["anthropic-ratelimit-unified-5h-utilization"] = "0.5"
    expect(UnifiedHeaders.parse(odd).fiveHour).toEqual({ utilization: 0.5, resetsAt: null })
    expect(UnifiedHeaders.parse({ "anthropic-ratelimit-unified-reset": 42 as unknown as string }).resetsAt).toBeNull()
  })
})

describe("UnifiedHeaders.claimResetsAt", () => {
  const reset = (claim: string) =>
    UnifiedHeaders.claimResetsAt(
      UnifiedHeaders.parse({ ...full, "anthropic-ratelimit-unified-representative-claim": claim })
    )

  it("is the reset of the window the claim names", () => {
    expect(reset("five_hour")).toBe(RESET_MS - 3_600_000)
    expect(reset("seven_day")).toBe(RESET_MS + 86_400_000)
    expect(reset("seven_day_opus")).toBe(RESET_MS + 86_400_000)
    expect(reset("overage")).toBeNull()
  })
})

describe("UnifiedHeaders.pick", () => {
  it("keeps the unified headers only, names lower-cased", () => {
    const headers = new Headers({ "Anthropic-Ratelimit-Unified-Status": "rejected", "retry-after": "5" })
    expect(UnifiedHeaders.pick(headers)).toEqual({ "anthropic-ratelimit-unified-status": "rejected" })
    expect(UnifiedHeaders.pick({ "Anthropic-Ratelimit-Unified-Reset": "1", "content-type": "x" })).toEqual({
      "anthropic-ratelimit-unified-reset": "1"
    })
  })
})
