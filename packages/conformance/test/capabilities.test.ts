// Capability names are typed per suite: an adapter declaring a misspelt
// capability, or a case needing one its suite does not describe, does not
// compile (the @ts-expect-error lines fail `tsc` the day that stops being
// true); the loop checks the same of the suites as they run.
import { describe, expect, it } from "vitest"
import { suites } from "../src/Matrix.js"
import type * as Suite from "../src/Suite.js"
import type * as RuntimeFetchSuite from "../src/suites/runtimeFetch.js"
import type * as UsageSourceSuite from "../src/suites/usageSource.js"

describe("capability keys", () => {
  it("a misspelt capability is a type error", () => {
    // @ts-expect-error `singelFlight` is not a runtime-fetch capability
    const typo: Suite.Capabilities<RuntimeFetchSuite.Capability> = { singelFlight: true }
    // @ts-expect-error a runtime-fetch capability is not a usage-source one
    const wrongSuite: Suite.Capabilities<UsageSourceSuite.Capability> = { sse: true }
    const right: Suite.Capabilities<RuntimeFetchSuite.Capability> = { singleFlight: true, sse: false }
    expect([typo, wrongSuite, right]).toHaveLength(3)
  })

  it.each(Object.entries(suites))("every capability a %s case needs is one its suite describes", (_, suite) => {
    const described = suite.capabilities as Readonly<Record<string, string>>
    const needed = suite.cases.flatMap((c) => (c.requires ?? []) as ReadonlyArray<string>)
    expect(needed.length).toBeGreaterThan(0)
    for (const need of needed) expect(Object.hasOwn(described, need), need).toBe(true)
  })
})
