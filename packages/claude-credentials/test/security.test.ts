// The `security -i` command line and output, without running `security`.
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Security from "../src/internal/security.js"

describe("the security -i line", () => {
  it("quotes for split_line and refuses what a line cannot carry", () => {
    expect(Security.quote(`Claude Code-credentials`)).toEqual(Option.some(`"Claude Code-credentials"`))
    expect(Security.quote(`a"b\\c`)).toEqual(Option.some(`"a\\"b\\\\c"`))
    expect(Security.quote("a\nb")).toEqual(Option.none())
    expect(Security.quote("a\0b")).toEqual(Option.none())
    expect(Security.commandLine([{ word: "find-generic-password" }, { word: "-a" }, { value: "x y" }])).toEqual(
      Either.right(`find-generic-password -a "x y"\n`)
    )
    expect(Security.commandLine([{ word: "x".repeat(Security.MAX_LINE_BYTES) }])).toEqual(
      Either.left({ _tag: "TooLong", bytes: Security.MAX_LINE_BYTES + 1 })
    )
  })

  it("decodes find-generic-password -w output, raw or hex", () => {
    const json = '{"a":"Zoë"}'
    const hex = Buffer.from(json, "utf8").toString("hex")
    expect(Security.decodePassword(Buffer.from(`${json}\n`))).toBe(`${json}\n`)
    expect(Security.decodePassword(Buffer.from(`${hex}\n`))).toBe(json)
    expect(Security.decodePassword(Buffer.from(`${hex.toUpperCase()}\n`))).toBe(json)
    // Hex that is not a JSON object is left as it is, for the parser to reject.
    expect(Security.decodePassword(Buffer.from("deadbeef\n"))).toBe("deadbeef\n")
    expect(Security.decodePassword(Buffer.from("c3\n"))).toBe("c3\n")
  })

  it("describes exits by status only", () => {
    expect(Security.describeExit({ code: 51, signal: null })).toBe("security exit status 51 (errSecAuthFailed)")
    expect(Security.describeExit({ code: 3, signal: null })).toBe("security exit status 3")
    expect(Security.describeExit({ code: null, signal: "SIGKILL" })).toBe("security was killed by SIGKILL")
  })
})
