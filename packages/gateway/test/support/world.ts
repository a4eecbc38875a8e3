/**
 * A gateway in front of the simulator, both on 127.0.0.1, in a throwaway
 * HOME: the simulator's logins as the gateway's accounts (in memory, or as a
 * Claude Code store on disk), a fresh gateway key, and every log line kept
 * so a test can look for secrets in it.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Login from "@tollgate/conformance/Login"
import * as Simulator from "@tollgate/conformance/Simulator"
import type { Scenario } from "@tollgate/conformance/Scenario"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as StoreLocation from "@tollgate/claude-credentials/StoreLocation"
import type * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"
import * as Gateway from "../../src/Gateway.js"
import * as GatewayKey from "../../src/GatewayKey.js"

export interface World {
  readonly sim: Simulator.Simulator
  readonly gateway: Gateway.Running
  readonly key: string
  readonly home: string
  readonly logs: Array<string>
  /** A request to the gateway with the key (override headers to leave it out). */
  readonly send: (path: string, init?: RequestInit & { readonly stream?: boolean }) => Promise<Response>
  readonly close: () => Promise<void>
}

export interface WorldOptions {
  readonly scenario?: Scenario | string
  /** More accounts after the first (seeded in the simulator). */
  readonly extra?: number
  /** The first account is the Claude Code store in the throwaway HOME, not an in-memory login. */
  readonly claudeCodeStore?: boolean
  readonly gateway?: Partial<Gateway.ListenOptions>
}

export const oauth = (login: Login.Login): AuthorizedFetch.Login => ({
  type: "oauth",
  access: login.accessToken,
  refresh: login.refreshToken,
  expires: login.expiresAt,
  scopes: login.scopes
})

export const messageBody = (stream = false) =>
  JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] })

export const start = async (options: WorldOptions = {}): Promise<World> => {
  const home = await mkdtemp(join(tmpdir(), "tollgate-gateway-test-"))
  const sim = await Simulator.start({ scenario: options.scenario, ttlMs: 120_000 })
  const logins = [Login.fromIssued(sim.account)]
  for (let i = 0; i < (options.extra ?? 0); i++) logins.push(Login.fromIssued(sim.seed()))
  const accounts: Array<AuthorizedFetch.Login> = logins.map(oauth)
  if (options.claudeCodeStore) {
    const configDir = join(home, ".claude")
    await mkdir(configDir, { recursive: true, mode: 0o700 })
    const first = logins[0]!
    await writeFile(
      join(configDir, ".credentials.json"),
      JSON.stringify({
        claudeAiOauth: {
          accessToken: first.accessToken,
          refreshToken: first.refreshToken,
          expiresAt: first.expiresAt,
          scopes: [...(first.scopes ?? [])],
          subscriptionType: "max",
          rateLimitTier: "default_claude_max_20x"
        }
      }),
      { mode: 0o600 }
    )
    accounts[0] = { type: "claude-code", location: StoreLocation.resolve({ CLAUDE_CONFIG_DIR: configDir, HOME: home }) }
  }
  const key = GatewayKey.generate()
  const logs: Array<string> = []
  const gateway = await Gateway.listen({
    accounts,
    key,
    settings: OAuthConfig.make({ apiBaseUrl: sim.url, oauthBaseUrl: sim.url }),
    port: 0,
    log: (line) => logs.push(line),
    ...options.gateway
  })
  const send = (path: string, init: RequestInit & { readonly stream?: boolean } = {}) =>
    fetch(`${gateway.url}${path}`, {
      method: "POST",
      body: messageBody(init.stream ?? false),
      ...init,
      headers: {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": key,
        ...(init.headers as Record<string, string> | undefined)
      }
    })
  return {
    sim,
    gateway,
    key,
    home,
    logs,
    send,
    close: async () => {
      await gateway.close(1_000)
      await sim.close()
      await rm(home, { recursive: true, force: true })
    }
  }
}
