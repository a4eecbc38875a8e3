// Command definitions load on every start, handlers only when their command runs (src/Lazy.ts), so a
// definition names some of a handler's values itself; these keep the two in step.
import * as Gateway from "@tollgate/gateway/Gateway"
import { describe, expect, it } from "vitest"
import { DEFAULT_DRAIN_SECONDS } from "../src/commands/gateway.js"

describe("command definitions", () => {
  it("gateway run's --drain-seconds default is the gateway's own drain time", () => {
    expect(DEFAULT_DRAIN_SECONDS * 1000).toBe(Gateway.DEFAULT_DRAIN_MS)
  })
})
