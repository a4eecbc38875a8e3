import { describe, expect, it } from "@effect/vitest"
import * as Signing from "../src/Signing.js"

const BETA = "oauth-2025-04-20"

describe("Signing", () => {
  it.each([
    [null, BETA],
    ["", BETA],
    ["prompt-caching-2024-07-31", `prompt-caching-2024-07-31,${BETA}`],
    [` ${BETA} , ,context-1m-2025-08-07`, `${BETA},context-1m-2025-08-07`]
  ])("merges the OAuth beta into %j once, blanks dropped, the caller's order kept", (existing, expected) => {
    expect(Signing.mergeBeta(existing, BETA)).toBe(expected)
  })

  it("signs with the bearer and the merged beta, nothing else", () => {
    expect(Signing.oauthHeaders("at-1", BETA, "files-api-2025-04-14")).toEqual({
      authorization: "Bearer at-1",
      "anthropic-beta": `files-api-2025-04-14,${BETA}`
    })
  })
})
