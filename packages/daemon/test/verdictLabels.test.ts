// Every verdict the daemon can send has its own statusline label. The type of
// VERDICT_LABELS already refuses to compile without one; this checks the
// running code against core's union as it is, tag by tag.
import { Classification } from "@tollgate/core"
import { describe, expect, it } from "vitest"
import { label, UNKNOWN_VERDICT_LABEL, VERDICT_LABELS } from "../src/statusline/format.js"

const coreTags = Classification.Classification.members.map((member) => member._tag)

describe("a statusline label for every verdict", () => {
  it("core's union is read whole (Ok, RateLimited and Decode are in it)", () => {
    expect(coreTags).toEqual(expect.arrayContaining(["Ok", "RateLimited", "Decode"]))
    expect(coreTags.length).toBeGreaterThanOrEqual(17)
  })

  it.each([...coreTags.filter((tag) => tag !== "Ok"), "NoLogin"])("%s has a label of its own", (verdict) => {
    expect(Object.hasOwn(VERDICT_LABELS, verdict)).toBe(true)
    const shown = label({ daemon: "ok", verdict, until: null }, Date.UTC(2026, 11, 4, 12))
    expect(shown).not.toBe(UNKNOWN_VERDICT_LABEL)
    expect(shown).toBeTruthy()
  })

  it("a verdict from a newer daemon is shown as unknown, not as all well", () => {
    expect(label({ daemon: "ok", verdict: "SomethingNew", until: null }, 0)).toBe(UNKNOWN_VERDICT_LABEL)
    expect(label({ daemon: "ok", verdict: "constructor", until: null }, 0)).toBe(UNKNOWN_VERDICT_LABEL)
  })
})
