/** The classify document's validation, in-process: the wording of each one-line complaint. */
import { describe, expect, it } from "@effect/vitest"
import { Scopes } from "@tollgate/core"
import * as Either from "effect/Either"
import * as ClassifyInput from "../src/ClassifyInput.js"

const complaint = (input: unknown): string =>
  Either.match(ClassifyInput.parse(typeof input === "string" ? input : JSON.stringify(input)), {
    onLeft: (message) => message,
    onRight: () => "accepted"
  })

describe("ClassifyInput.parse", () => {
  it("names the field and the value that is wrong", () => {
    expect(complaint({ endpoint: "usage", status: 42 })).toBe(
      "status: expected an HTTP status (an integer from 100 to 599) or null, got 42"
    )
    expect(complaint({ endpoint: "usage" })).toBe("status is missing")
    expect(complaint({ endpoint: "usage", status: null, transportError: "dns" })).toBe(
      'transportError: expected one of "connect", "reset", "timeout", "aborted", "other", got "dns"'
    )
    expect(complaint({ endpoint: "usage", status: 200, credential: { scopes: ["a", 1] } })).toBe(
      "credential.scopes: expected an array of scope strings, got an array"
    )
    expect(complaint({ endpoint: "usage", status: 200, headers: { "retry-after": true } })).toBe(
      "headers.retry-after: expected a string, a number or an array of strings, got true"
    )
    expect(complaint([])).toBe("expected a JSON object, got an array")
    expect(complaint("")).toBe("no input: expected one JSON document")
  })

  it("refuses unknown keys, so a misspelt optional field cannot be ignored silently", () => {
    expect(complaint({ endpoint: "usage", status: 200, credentials: {} })).toMatch(/^credentials is unexpected/)
  })

  it("builds the classifier input: numeric headers as strings, absent scopes as unknown", () => {
    const text = JSON.stringify({ endpoint: "usage", status: 429, headers: { "retry-after": 60 }, credential: {} })
    const doc = Either.getOrThrow(ClassifyInput.parse(text))
    expect(ClassifyInput.toClassifyInput(doc, 1_000)).toEqual({
      endpoint: "usage",
      status: 429,
      transportError: undefined,
      headers: { "retry-after": "60" },
      body: undefined,
      credential: { scopes: Scopes.unknown, expiresAt: undefined },
      now: 1_000
    })
  })

  it("refuses input nested 20k and 100k deep in any field: one line naming the field, no stack overflow", () => {
    const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`
    for (const depth of [20_000, 100_000]) {
      for (const field of ["now", "headers", "credential", "transportError", "body"]) {
        const prefix = `{"endpoint":"messages","status":429,"${field}":`
        // The character reported is the bracket that opens level 65 (the document is level 1).
        expect(complaint(`${prefix}${deep(depth)}}`)).toBe(
          `${field}: nested deeper than 64 levels (at character ${prefix.length + 63})`
        )
      }
    }
    expect(complaint(`{"endpoint":"usage","status":200,"headers":{"x":${deep(100)}}}`)).toBe(
      "headers: nested deeper than 64 levels (at character 110)"
    )
    // A key that is not a field may be anything, a pasted token included: not echoed.
    expect(complaint(`{"sk-ant-oat01-SECRET":${deep(100)}}`)).toBe(
      "the input is nested deeper than 64 levels (at character 86)"
    )
    expect(complaint(deep(100_000))).toBe("the input is nested deeper than 64 levels (at character 64)")
    // Brackets inside strings are not nesting; a body string holding deep JSON is a valid body.
    expect(complaint({ endpoint: "messages", status: 500, body: deep(100_000) })).toBe("accepted")
  })
})
