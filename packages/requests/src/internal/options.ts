/**
 * The plugin's options (`"plugin": [["file:///…", { "accounts": [...], "strategy": "failover" }]]`),
 * validated with Schema when opencode loads the plugin. Every entry is
 * checked on its own, so one bad account is reported (by its index and what
 * is wrong with it) while the valid ones still serve. A problem names the
 * option, never a value: a misplaced key must not end up in a log line.
 */
import { StoreLocation } from "@tollgate/claude-credentials"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { homedir } from "node:os"
import type * as AuthorizedFetch from "../AuthorizedFetch.js"

const nonEmpty = (what: string) =>
  Schema.String.pipe(
    Schema.annotations({ message: () => `must be a string (${what})` }),
    Schema.filter((s) => s.trim() !== "", { message: () => `must not be empty (${what})` })
  )

/** `{ "type": "api", "keyEnv": "NAME" }` or `{ "type": "api", "key": "sk-ant-api…" }`. */
export const ApiAccount = Schema.Struct({
  type: Schema.Literal("api"),
  key: Schema.optionalWith(nonEmpty("an Anthropic API key"), { exact: true }),
  keyEnv: Schema.optionalWith(nonEmpty("the name of an environment variable holding an API key"), { exact: true })
})

/** `{ "type": "claude-code", "configDir": "~/.claude-work" }`: another Claude Code login. */
export const ClaudeCodeAccount = Schema.Struct({
  type: Schema.Literal("claude-code"),
  configDir: nonEmpty('a Claude Code config directory, e.g. "~/.claude-work"')
})

/** One extra account. */
export const Account = Schema.Union(ApiAccount, ClaudeCodeAccount)
export type Account = typeof Account.Type

/** The options as a whole; `accounts` entries are decoded one by one with {@link Account}. */
export const Options = Schema.Struct({
  accounts: Schema.optionalWith(
    Schema.Array(Schema.Unknown).annotations({ message: () => "must be a list of accounts" }),
    { exact: true }
  ),
  strategy: Schema.optionalWith(
    Schema.Literal("failover").annotations({ message: () => 'must be "failover" (the only strategy)' }),
    { exact: true }
  )
})

const KNOWN = new Set(["accounts", "strategy"])
const ACCOUNT_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  api: new Set(["type", "key", "keyEnv"]),
  "claude-code": new Set(["type", "configDir"])
}

/** What the options yield: the accounts to add after the auth.json login, and what was wrong. */
export interface Validated {
  readonly accounts: ReadonlyArray<AuthorizedFetch.Login>
  /** One sentence per problem, naming the option (`accounts[1].keyEnv`); empty when all is well. */
  readonly problems: ReadonlyArray<string>
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const pathOf = (prefix: string, path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${String(k)}`), prefix)

// Schema's messages without the values it saw: an option may hold a secret.
const issues = (prefix: string, error: ParseResult.ParseError): Array<string> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const where = pathOf(prefix, issue.path)
    if (issue._tag === "Missing") return `${where} is missing`
    if (issue._tag === "Unexpected") return `${where} is not an option`
    return `${where} ${/^(must|is) /.test(issue.message) ? issue.message : "has the wrong type"}`
  })

// A name from the options is repeated only when it looks like a name: a key pasted in the wrong place is not.
const named = (name: string): string | undefined =>
  /^[A-Za-z_][A-Za-z0-9_-]{0,23}$/.test(name) && !/^sk-/i.test(name) ? name : undefined

const typeProblem = (where: string, type: unknown): string => {
  if (type === undefined) return `${where}.type is missing: use "api" or "claude-code"`
  const name = typeof type === "string" ? named(type) : undefined
  return name === undefined
    ? `${where}.type must be "api" or "claude-code"`
    : `${where}.type "${name}" is not an account type: use "api" or "claude-code"`
}

/**
 * Validates the plugin's options. Never throws: whatever is wrong becomes a
 * problem and is left out; every valid account is returned.
 */
export const validate = (
  options: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env
): Validated => {
  if (options === undefined || options === null) return { accounts: [], problems: [] }
  if (!isObject(options))
    return { accounts: [], problems: ['the plugin options must be an object, e.g. { "accounts": [...] }'] }
  const problems: Array<string> = []
  for (const key of Object.keys(options)) {
    if (KNOWN.has(key)) continue
    const name = named(key)
    problems.push(
      name === undefined
        ? "the options hold a key that is not an option of tollgate (not shown: it does not look like a name; known: accounts, strategy)"
        : `option "${name}" is not an option of tollgate (known: accounts, strategy)`
    )
  }
  const top = Schema.decodeUnknownEither(Options)(
    Object.fromEntries(Object.entries(options).filter(([k]) => KNOWN.has(k)))
  )
  if (Either.isLeft(top)) problems.push(...issues("", top.left).map((p) => p.replace(/^\./, "")))
  const list = Either.isRight(top)
    ? (top.right.accounts ?? [])
    : Array.isArray(options["accounts"])
      ? options["accounts"]
      : []
  const accounts: Array<AuthorizedFetch.Login> = []
  const home = env["HOME"] || homedir()
  for (const [i, entry] of list.entries()) {
    const where = `accounts[${i}]`
    if (!isObject(entry)) {
      problems.push(`${where} must be an object such as { "type": "api", "keyEnv": "NAME" }`)
      continue
    }
    const type = entry["type"]
    const allowed = typeof type === "string" && Object.hasOwn(ACCOUNT_KEYS, type) ? ACCOUNT_KEYS[type] : undefined
    if (allowed === undefined) {
      problems.push(typeProblem(where, entry["type"]))
      continue
    }
    const extra = Object.keys(entry).filter((k) => !allowed.has(k))
    for (const k of extra) {
      const name = named(k)
      problems.push(
        name === undefined
          ? `${where} holds a key that is not an option of a "${type}" account (not shown: it does not look like a name)`
          : `${where}.${name} is not an option of a "${type}" account`
      )
    }
    const decoded: Either.Either<Account, ParseResult.ParseError> =
      type === "api"
        ? Schema.decodeUnknownEither(ApiAccount)(entry)
        : Schema.decodeUnknownEither(ClaudeCodeAccount)(entry)
    if (Either.isLeft(decoded)) {
      problems.push(...issues(where, decoded.left))
      continue
    }
    const account: Account = decoded.right
    if (account.type === "claude-code") {
      const dir = account.configDir.trim().replace(/^~(?=\/|$)/, home)
      accounts.push({
        type: "claude-code",
        location: StoreLocation.resolve({ CLAUDE_CONFIG_DIR: dir, HOME: home, USER: env["USER"] })
      })
      continue
    }
    if (account.key !== undefined && account.keyEnv !== undefined) {
      problems.push(`${where} has both "key" and "keyEnv": keep one (prefer "keyEnv")`)
      continue
    }
    if (account.keyEnv !== undefined) {
      const name = account.keyEnv.trim()
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push(`${where}.keyEnv must name an environment variable (letters, digits, _), not hold the key`)
        continue
      }
      const value = env[name]
      if (value === undefined || value.trim() === "") {
        problems.push(`${where}.keyEnv: the environment variable ${name} is not set`)
        continue
      }
      accounts.push({ type: "api", key: value.trim() })
      continue
    }
    if (account.key !== undefined) {
      accounts.push({ type: "api", key: account.key.trim() })
      continue
    }
    problems.push(`${where} needs "keyEnv" (an environment variable holding the API key) or "key"`)
  }
  return { accounts, problems }
}

/** The message shown for problems: one line per problem under a heading. */
export const describe = (problems: ReadonlyArray<string>): string =>
  [
    `tollgate: the plugin options have ${problems.length === 1 ? "a problem" : `${problems.length} problems`} (ignored):`,
    ...problems.map((p) => `- ${p}`)
  ].join("\n")
