/**
 * OAuth scopes and the capabilities they unlock.
 *
 * A stored record whose `scopes` field is absent tells us nothing ("unknown,
 * try once"); an explicitly empty list means the token has no scope at all.
 * Keeping the two apart is what stops a daemon from either never trying or
 * retrying a doomed call forever.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** What a caller wants to do with a token. @since 0.1.0 */
export const Capability = Schema.Literal("inference", "usage", "profile", "remote_control")

/** One of `inference`, `usage`, `profile`, `remote_control`. @since 0.1.0 */
export type Capability = typeof Capability.Type

/**
 * The scopes each capability needs (reference, section 2). Remote Control also
 * needs `user:profile` because Claude Code registers the session through it.
 *
 * @since 0.1.0
 */
export const required: { readonly [K in Capability]: ReadonlyArray<string> } = {
  inference: ["user:inference"],
  usage: ["user:profile"],
  profile: ["user:profile"],
  remote_control: ["user:sessions:claude_code", "user:profile"]
}

/** Plain-words description of each capability, for reports. @since 0.1.0 */
export const describe: { readonly [K in Capability]: string } = {
  inference: "send messages (inference)",
  usage: "read quota from the usage endpoint",
  profile: "read the subscription profile",
  remote_control: "use Remote Control"
}

/**
 * The scopes a login asks for (Claude Code 2.1.330). A refresh sends the
 * stored scopes without `org:create_api_key`.
 *
 * @since 0.1.0
 */
export const login: ReadonlyArray<string> = [
  "org:create_api_key",
  "user:profile",
  "user:inference",
  "user:sessions:claude_code",
  "user:mcp_servers",
  "user:file_upload",
  "user:plugins"
]

/**
 * The only scope a `claude setup-token` token (and `CLAUDE_CODE_OAUTH_TOKEN`)
 * carries: it can send messages and nothing else.
 *
 * @since 0.1.0
 */
export const setupToken: ReadonlyArray<string> = ["user:inference"]

/**
 * What we know about a token's scopes.
 *
 * @since 0.1.0
 */
export type ScopeSet = { readonly _tag: "Unknown" } | { readonly _tag: "Known"; readonly scopes: ReadonlyArray<string> }

/** The scopes of a record with no `scopes` field: a call is tried once rather than refused. @since 0.1.0 */
export const unknown: ScopeSet = { _tag: "Unknown" }

/** The scopes of a record that lists them (deduplicated); an empty list means no scope at all. @since 0.1.0 */
export const known = (scopes: Iterable<string>): ScopeSet => ({ _tag: "Known", scopes: dedupe(scopes) })

/**
 * Reads a stored `scopes` field: absent or not an array is unknown, an array
 * keeps its string members.
 *
 * @since 0.1.0
 */
export const fromStored = (value: unknown): ScopeSet =>
  Array.isArray(value) ? known(value.filter((s): s is string => typeof s === "string")) : unknown

/**
 * Parses the space-separated `scope` field of a token response.
 *
 * @since 0.1.0
 */
export const parse = (scope: string): ReadonlyArray<string> => dedupe(scope.split(/\s+/).filter((s) => s.length > 0))

/**
 * The scopes a refresh request should send: the stored ones without
 * `org:create_api_key`, which the token endpoint refuses on refresh.
 *
 * @since 0.1.0
 */
export const forRefresh = (scopes: ReadonlyArray<string>): ReadonlyArray<string> =>
  scopes.filter((s) => s !== "org:create_api_key")

/**
 * The outcome of a scope check.
 *
 * @since 0.1.0
 */
export type Check =
  | { readonly _tag: "Granted" }
  | { readonly _tag: "Missing"; readonly scope: string }
  | { readonly _tag: "Unknown" }

/**
 * Whether `set` allows `capability`. Unknown scopes give `Unknown`: callers try
 * once and let the classifier learn the answer from the response.
 *
 * @since 0.1.0
 */
export const check = (set: ScopeSet, capability: Capability): Check => {
  if (set._tag === "Unknown") return { _tag: "Unknown" }
  for (const scope of required[capability]) {
    if (!set.scopes.includes(scope)) return { _tag: "Missing", scope }
  }
  return { _tag: "Granted" }
}

/** Whether `set` is known to lack what `capability` needs. @since 0.1.0 */
export const isKnownMissing = (set: ScopeSet, capability: Capability): boolean =>
  check(set, capability)._tag === "Missing"

const dedupe = (scopes: Iterable<string>): ReadonlyArray<string> => Array.from(new Set(scopes))
