/**
 * What `tollgate doctor` says about a discovered login: a flat, JSON-ready
 * report with stable field names, and its plain-words rendering.
 */
import type { LoginDiscovery } from "@tollgate/claude-credentials"
import { Credential, Scopes } from "@tollgate/core"

/** Whether a capability can be used; `usable: null` when the scopes are unknown. */
export interface CapabilityFacts {
  readonly usable: boolean | null
  readonly missingScope: string | null
}

/** The report. Field names are part of `doctor --json`'s contract. */
export interface Report {
  readonly found: boolean
  /** Why nothing usable was found (a {@link LoginDiscovery.NotFoundReason}), else `null`. */
  readonly reason: LoginDiscovery.NotFoundReason | null
  /** One sentence for `reason`, else `null`. */
  readonly detail: string | null
  readonly source: "environment" | "keychain" | "file" | null
  readonly path: string | null
  /** The macOS Keychain item's service, when the login is there; else `null`. */
  readonly keychainService: string | null
  /** Octal permission bits such as `"0600"`. */
  readonly mode: string | null
  readonly scopes: ReadonlyArray<string> | null
  readonly scopesKnown: boolean
  readonly expiresAt: number | null
  /** By Claude Code's rule (five minutes early); `null` when unknown. */
  readonly expired: boolean | null
  readonly subscriptionType: string | null
  readonly rateLimitTier: string | null
  readonly hasRefreshToken: boolean
  readonly fingerprint: string | null
  readonly capabilities: { readonly [K in Scopes.Capability]: CapabilityFacts }
  readonly warnings: ReadonlyArray<string>
}

const INFERENCE = "user:inference"
const SKEW_MIN = Credential.CLAUDE_CODE_EXPIRY_SKEW_MS / 60_000

const octal = (mode: number | null): string | null => (mode === null ? null : `0${mode.toString(8).padStart(3, "0")}`)

const capabilities = (scopes: Scopes.ScopeSet | null): Report["capabilities"] => {
  const facts = (capability: Scopes.Capability): CapabilityFacts => {
    if (scopes === null) return { usable: false, missingScope: null }
    const check = Scopes.check(scopes, capability)
    switch (check._tag) {
      case "Granted":
        return { usable: true, missingScope: null }
      case "Missing":
        return { usable: false, missingScope: check.scope }
      case "Unknown":
        return { usable: null, missingScope: null }
    }
  }
  return {
    inference: facts("inference"),
    usage: facts("usage"),
    profile: facts("profile"),
    remote_control: facts("remote_control")
  }
}

// The file holds refresh tokens (and MCP secrets) even when it holds no usable login.
const modeWarning = (path: string | null, mode: number | null): Array<string> =>
  path !== null && mode !== null && mode !== 0o600
    ? [`${path} has mode ${octal(mode)}; it should be 0600 so only you can read it (chmod 600 it).`]
    : []

const warningsFor = (found: LoginDiscovery.Found, expired: boolean | null): Array<string> => {
  const { login } = found
  const warnings: Array<string> = []
  if (found.source === "environment") {
    warnings.push(
      "CLAUDE_CODE_OAUTH_TOKEN holds a setup-token: inference only, no refresh token. The usage endpoint, " +
        "the profile and Remote Control cannot work with it, and Claude Code uses it instead of any file login."
    )
    return warnings
  }
  warnings.push(...modeWarning(found.path, found.mode))
  // Claude Code 2.1.330 reports loggedIn: false for such a record (reference, section 2).
  if (login.scopes._tag === "Unknown") {
    warnings.push(
      `The login has no scopes field, so ${INFERENCE} is not in its scopes: Claude Code treats it as ` +
        "not logged in. Run `claude` and log in again."
    )
  } else if (!login.scopes.scopes.includes(INFERENCE)) {
    warnings.push(
      `The login's scopes do not include ${INFERENCE}: Claude Code treats it as not logged in. ` +
        "Run `claude` and log in again."
    )
  }
  if (login.fingerprint === null) {
    warnings.push(
      "The access token is empty: Claude Code blanks the login when a refresh is refused. Run `claude` and log in again."
    )
  }
  if (expired === true) {
    warnings.push(
      login.hasRefreshToken
        ? "The access token counts as expired; Claude Code refreshes it on next use."
        : "The access token counts as expired and there is no refresh token: run `claude` and log in again."
    )
  } else if (!login.hasRefreshToken) {
    warnings.push("There is no refresh token: when the access token expires you must log in again.")
  }
  if (login.subscriptionType === null) {
    warnings.push("The login has no subscriptionType: Claude Code runs it in API-key mode, not as a subscription.")
  }
  return warnings
}

/** The report for a discovery made at `now` (epoch ms). */
export const make = (discovery: LoginDiscovery.Discovery, now: number): Report => {
  if (discovery._tag === "NotFound") {
    return {
      found: false,
      reason: discovery.reason,
      detail: discovery.detail,
      source: null,
      path: discovery.path,
      keychainService: null,
      mode: octal(discovery.mode),
      scopes: null,
      scopesKnown: false,
      expiresAt: null,
      expired: null,
      subscriptionType: null,
      rateLimitTier: null,
      hasRefreshToken: false,
      fingerprint: null,
      capabilities: capabilities(null),
      warnings: modeWarning(discovery.path, discovery.mode)
    }
  }
  const { login } = discovery
  const expired = login.expiryKnown ? Credential.isExpired(login.expiresAt, now) : null
  return {
    found: true,
    reason: null,
    detail: null,
    source: discovery.source,
    path: discovery.path,
    keychainService: discovery.keychainService,
    mode: octal(discovery.mode),
    scopes: login.scopes._tag === "Known" ? login.scopes.scopes : null,
    scopesKnown: login.scopes._tag === "Known",
    expiresAt: login.expiresAt,
    expired,
    subscriptionType: login.subscriptionType,
    rateLimitTier: login.rateLimitTier,
    hasRefreshToken: login.hasRefreshToken,
    fingerprint: login.fingerprint,
    capabilities: capabilities(login.scopes),
    warnings: warningsFor(discovery, expired)
  }
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z")

// Minutes are what an 8-hour access token is read in; days keep a long
// expiry readable.
const duration = (ms: number): string => {
  const min = Math.floor(Math.abs(ms) / 60_000)
  return min < 24 * 60 ? `${min} min` : `${Math.floor(min / (24 * 60))} days (${min} min)`
}

const expiryWords = (report: Report, now: number): string => {
  if (report.expired === null) return "unknown (setup-tokens last about a year)"
  if (report.expiresAt === null) return "never (no expiry recorded)"
  const left = report.expiresAt - now
  const rule = `Claude Code counts a token as expired ${SKEW_MIN} minutes before expiresAt`
  if (left <= 0) return `expired ${duration(left)} ago (${iso(report.expiresAt)})`
  if (report.expired) return `expired by Claude Code's rule: expiresAt is in ${duration(left)}, and ${rule}`
  return `expires in ${duration(left)} (${iso(report.expiresAt)}); ${rule}`
}

const scopeWords = (report: Report): string =>
  report.scopes === null
    ? "unknown (the record has no scopes field)"
    : report.scopes.length === 0
      ? "none"
      : report.scopes.join(" ")

const capabilityWords = (facts: CapabilityFacts, scopesKnown: boolean): string =>
  facts.usable === true
    ? "yes"
    : facts.usable === null
      ? "unknown (scopes not recorded; a first call will tell)"
      : facts.missingScope !== null
        ? `no, missing scope ${facts.missingScope}`
        : scopesKnown
          ? "no"
          : "no (no login)"

/** Label/value rows as aligned, indented lines: the layout of every section `tollgate doctor` prints. */
export const table = (rows: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)
}

/** The report in plain words, one fact per line. */
export const render = (report: Report, now: number): string => {
  const warnings = report.warnings.length > 0 ? ["", "Warnings", ...report.warnings.map((w) => `  - ${w}`)] : []
  if (!report.found) {
    const advice = "run `claude` and log in."
    const line =
      report.reason === "missing"
        ? `No Claude Code login found in ${report.path} and CLAUDE_CODE_OAUTH_TOKEN is not set; ${advice}`
        : `No Claude Code login found in ${report.path}: ${report.detail}. CLAUDE_CODE_OAUTH_TOKEN is not set; ${advice}`
    return [line, ...warnings].join("\n")
  }
  const fromEnv = report.source === "environment"
  const facts: Array<readonly [string, string]> = [
    [
      "source",
      fromEnv
        ? "environment (CLAUDE_CODE_OAUTH_TOKEN: a setup-token; expiry unknown, no refresh token)"
        : report.source === "keychain"
          ? `macOS Keychain (item "${report.keychainService ?? ""}", which Claude Code reads before the file)`
          : "file (Claude Code's credential store)"
    ]
  ]
  if (report.path !== null) facts.push(["path", report.path])
  if (report.mode !== null) {
    facts.push(["file mode", report.mode === "0600" ? "0600" : `${report.mode} (should be 0600)`])
  }
  facts.push(
    ["scopes", scopeWords(report)],
    ["expiry", expiryWords(report, now)],
    ["subscription", report.subscriptionType ?? "unknown"],
    ["rate-limit tier", report.rateLimitTier ?? "unknown"],
    ["refresh token", report.hasRefreshToken ? "present" : "absent"],
    ["fingerprint", report.fingerprint ?? "none (the access token is empty)"]
  )
  const caps = Scopes.Capability.literals.map(
    (name) => [Scopes.describe[name], capabilityWords(report.capabilities[name], report.scopesKnown)] as const
  )
  return ["Claude Code login found", ...table(facts), "", "What it can do", ...table(caps), ...warnings].join("\n")
}
