/**
 * The JSON document `tollgate classify` reads, and its conversion into the
 * core classifier's input. Decoding is strict — an unknown key is an error —
 * because a misspelt optional field (`credentials`, `transport_error`) would
 * otherwise be dropped silently and change the verdict without a word.
 */
import { Classification, type Classify, Endpoint, JsonText, Scopes } from "@tollgate/core"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

// Names what was given without quoting strings: input may carry tokens.
const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (value === null) return "null"
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  // Short words (an endpoint name) help; anything token-sized is never echoed.
  if (typeof value === "string")
    return value.length <= 24 && !/^sk-ant/i.test(value) ? JSON.stringify(value) : "a string"
  return Array.isArray(value) ? "an array" : "an object"
}

// Our own words for the failures people actually make; Schema's defaults
// print the whole type. `override` is for leaves only: on a container it
// would hide which member was wrong.
const expected = (what: string, override = true) => ({
  message: (issue: ParseResult.ParseIssue) => ({ message: `expected ${what}, got ${show(issue.actual)}`, override })
})

const Status = Schema.NullOr(Schema.Int.pipe(Schema.between(100, 599))).annotations(
  expected("an HTTP status (an integer from 100 to 599) or null")
)

const HeaderValue = Schema.Union(
  Schema.String,
  // People paste `"retry-after": 60`; a number is what they mean.
  Schema.Number.pipe(Schema.finite()),
  Schema.Array(Schema.String)
).annotations(expected("a string, a number or an array of strings"))

const Credential = Schema.Struct({
  scopes: Schema.optional(Schema.Array(Schema.String).annotations(expected("an array of scope strings"))),
  expiresAt: Schema.optional(
    Schema.NullOr(Schema.Number.pipe(Schema.finite())).annotations(expected("epoch milliseconds or null"))
  )
}).annotations(expected("an object with optional scopes and expiresAt, or null", false))

/** The document's schema. `credential.scopes` absent means the scopes are unknown. */
export const Document = Schema.Struct({
  endpoint: Endpoint.Endpoint.annotations(expected(`one of ${Endpoint.all.map((e) => `"${e}"`).join(", ")}`)),
  status: Status,
  transportError: Schema.optional(
    Classification.TransportReason.annotations(
      expected(`one of ${Classification.TransportReason.literals.map((r) => `"${r}"`).join(", ")}`)
    )
  ),
  headers: Schema.optional(
    Schema.Record({ key: Schema.String, value: HeaderValue }).annotations(
      expected("an object of header names to values", false)
    )
  ),
  body: Schema.optional(Schema.NullOr(Schema.String).annotations(expected("the response body as a string, or null"))),
  credential: Schema.optional(
    Schema.NullOr(Credential).annotations(expected("an object with optional scopes and expiresAt, or null", false))
  ),
  now: Schema.optional(Schema.Number.pipe(Schema.finite()).annotations(expected("epoch milliseconds")))
})

/** A decoded document. */
export type Document = typeof Document.Type

const decode = Schema.decodeUnknownEither(Document, { onExcessProperty: "error", errors: "first" })

const pathOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`),
    ""
  )

/** One line naming the first problem: `status: expected …, got …`. */
const describeError = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined) return "the input does not match the expected shape"
  const where = pathOf(issue.path)
  if (where === "") return issue.message
  // "is missing" and "is unexpected" read as a sentence after the key.
  return issue.message.startsWith("is ") ? `${where} ${issue.message}` : `${where}: ${issue.message}`
}

/**
 * Parses and validates the document text; `Left` holds one line saying what
 * is wrong.
 */
export const parse = (text: string): Either.Either<Document, string> => {
  // Schema's issue formatting recurses into the value it got: thousands of
  // nested arrays in any field overflow the stack. No valid input nests
  // deeper than 3 levels, so such input is refused before it is parsed.
  const deep = JsonText.depthExceededAt(text)
  if (deep >= 0) {
    const field = fieldAt(text, deep)
    return Either.left(
      `${field === undefined ? "the input is" : `${field}:`} nested deeper than ${JsonText.MAX_DEPTH} levels (at character ${deep})`
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(
      text.trim() === ""
        ? "no input: expected one JSON document"
        : // The parser's own message quotes the input, which may hold a token: report only the position.
          `the input is not valid JSON${position((e as Error).message)}`
    )
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return Either.left(`expected a JSON object, got ${show(json)}`)
  }
  return Either.mapLeft(decode(json), describeError)
}

/** The classifier input for a document, observed at `now` unless the document says when. */
export const toClassifyInput = (doc: Document, now: number): Classify.Input => ({
  endpoint: doc.endpoint,
  status: doc.status,
  transportError: doc.transportError,
  headers:
    doc.headers &&
    Object.fromEntries(
      Object.entries(doc.headers).map(([name, value]) => [name, typeof value === "number" ? String(value) : value])
    ),
  body: doc.body,
  credential: doc.credential && {
    scopes: doc.credential.scopes === undefined ? Scopes.unknown : Scopes.known(doc.credential.scopes),
    expiresAt: doc.credential.expiresAt
  },
  now: doc.now ?? now
})

const position = (parserMessage: string): string => {
  const at = /position (\d+)/.exec(parserMessage)
  return at ? ` (at character ${at[1]})` : ""
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a

/**
 * The document's field whose value holds character `index`, found with one
 * scan (the value may be too deep to parse and walk); only a field the
 * document has is named, since any other key could be a pasted token.
 */
const fieldAt = (text: string, index: number): string | undefined => {
  let depth = 0
  let lastString: string | undefined
  let key: string | undefined
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++
      if (depth === 1) lastString = text.slice(start, i + 1)
    } else if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) depth--
    else if (c === COLON && depth === 1) key = lastString
  }
  if (key === undefined) return undefined
  try {
    const name: unknown = JSON.parse(key)
    return typeof name === "string" && Object.hasOwn(Document.fields, name) ? name : undefined
  } catch {
    return undefined
  }
}
