import { describe, expect, it } from "@effect/vitest"
import * as JsonText from "../src/JsonText.js"

describe("JsonText", () => {
  it("finds the first bracket past the depth, iteratively, outside strings only", () => {
    expect(JsonText.depthExceededAt("[[1]]", 2)).toBe(-1)
    expect(JsonText.depthExceededAt("[[[1]]]", 2)).toBe(2)
    expect(JsonText.depthExceededAt('{"a":"[[[[","b":{"c":[]}}', 3)).toBe(-1)
    expect(JsonText.depthExceededAt('{"a":"\\"[[[[","b":{"c":[]}}', 3)).toBe(-1)
    expect(JsonText.depthExceededAt("[]".repeat(1000), 1)).toBe(-1)
    const deep = "[".repeat(1_000_000)
    expect(JsonText.depthExceededAt(deep)).toBe(JsonText.MAX_DEPTH)
  })

  it("strips one leading byte order mark", () => {
    expect(JsonText.stripBom("\uFEFF{}")).toBe("{}")
    expect(JsonText.stripBom("{}")).toBe("{}")
    expect(JsonText.stripBom("\uFEFF\uFEFF{}")).toBe("\uFEFF{}")
  })

  it("counts UTF-8 bytes as the encoder would, and stops early past the limit", () => {
    const encoder = new TextEncoder()
    for (const text of ["", "abc", "é", "€uro", "😀 ok", "\uD800 lone", "x\uDC00"]) {
      expect(JsonText.utf8Length(text)).toBe(encoder.encode(text).length)
    }
    expect(JsonText.utf8Length("€".repeat(1000), 10)).toBeGreaterThan(10)
    expect(JsonText.utf8Length("a".repeat(1000), 10)).toBeGreaterThan(10)
  })
})
