/**
 * Where and how tollgate talks to Anthropic. Every base URL and User-Agent is
 * configuration: users behind gateways need the URLs, the simulator relies on
 * them, and the User-Agent is part of each endpoint's contract (reference,
 * section 1) — so it is never hard-coded at a call site.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Endpoint } from "./Endpoint.js"

/** The base URLs, client id and per-endpoint User-Agents; override them for a gateway or the simulator. @since 0.1.0 */
export interface Settings {
  /** Base of usage, profile and messages. Default `https://api.anthropic.com`. */
  readonly apiBaseUrl: string
  /** Base of the token endpoint. Default `https://platform.claude.com`. */
  readonly oauthBaseUrl: string
  /** Claude Code's public OAuth client id. */
  readonly clientId: string
  /** User-Agent per endpoint. */
  readonly userAgent: { readonly [E in Endpoint]: string }
  /** The `anthropic-beta` value OAuth calls carry. */
  readonly oauthBeta: string
  /** Whole-request deadline, body included. */
  readonly timeoutMs: number
  /** At most this many body bytes are read; the rest is dropped. */
  readonly maxBodyBytes: number
}

/** The Claude Code version whose behaviour the defaults mirror. @since 0.1.0 */
export const CLAUDE_CODE_VERSION = "2.1.330"

/**
 * Defaults per the reference: the token endpoint punishes `claude-code/` and
 * browser UAs and wants a bare HTTP-library one (Claude Code sends axios's);
 * the usage endpoint puts anything but a Claude Code UA in a harsher bucket.
 *
 * @since 0.1.0
 */
export const defaults: Settings = {
  apiBaseUrl: "https://api.anthropic.com",
  oauthBaseUrl: "https://platform.claude.com",
  clientId: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
  userAgent: {
    token: "axios/1.15.2",
    usage: `claude-code/${CLAUDE_CODE_VERSION}`,
    profile: `claude-code/${CLAUDE_CODE_VERSION}`,
    messages: "tollgate/0.1.0"
  },
  oauthBeta: "oauth-2025-04-20",
  timeoutMs: 15_000,
  maxBodyBytes: 1024 * 1024
}

/**
 * The settings service.
 *
 * @since 0.1.0
 */
export class OAuthConfig extends Context.Tag("@tollgate/core/OAuthConfig")<OAuthConfig, Settings>() {}

/** Settings with overrides. @since 0.1.0 */
export const make = (overrides: Partial<Settings> = {}): Settings => ({
  ...defaults,
  ...overrides,
  userAgent: { ...defaults.userAgent, ...overrides.userAgent }
})

const url = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.validate({
      message: `${name} must be an http(s) URL`,
      validation: (s) => /^https?:\/\/[^\s]+$/.test(s)
    }),
    Config.map((s) => s.replace(/\/+$/, "")),
    Config.withDefault(fallback)
  )

/**
 * Reads `TOLLGATE_API_BASE_URL`, `TOLLGATE_OAUTH_BASE_URL` and the optional
 * `TOLLGATE_USER_AGENT_<ENDPOINT>` overrides from the `ConfigProvider`.
 *
 * @since 0.1.0
 */
export const fromConfig = (overrides: Partial<Settings> = {}) =>
  Effect.gen(function* () {
    const base = make(overrides)
    const ua = (e: Endpoint) =>
      Config.string(`TOLLGATE_USER_AGENT_${e.toUpperCase()}`).pipe(Config.withDefault(base.userAgent[e]))
    return {
      ...base,
      apiBaseUrl: yield* url("TOLLGATE_API_BASE_URL", base.apiBaseUrl),
      oauthBaseUrl: yield* url("TOLLGATE_OAUTH_BASE_URL", base.oauthBaseUrl),
      userAgent: {
        token: yield* ua("token"),
        usage: yield* ua("usage"),
        profile: yield* ua("profile"),
        messages: yield* ua("messages")
      }
    } satisfies Settings
  })

/** Fixed settings. @since 0.1.0 */
export const layer = (overrides: Partial<Settings> = {}): Layer.Layer<OAuthConfig> =>
  Layer.succeed(OAuthConfig, make(overrides))

/** Settings from the environment (via `ConfigProvider`). @since 0.1.0 */
export const layerFromConfig = (overrides: Partial<Settings> = {}) => Layer.effect(OAuthConfig, fromConfig(overrides))
