/**
 * credentialStoreSuite: a writer of Claude Code's credential store refreshes
 * the login without ever logging Claude Code out — every key and field it
 * does not own survives, scopes are never dropped, a dead refresh token never
 * blanks the store, and Claude Code's locks are honoured.
 *
 * @since 0.1.0
 */
import { mkdir, rm, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { find } from "../Catalog.js"
import type { Scenario } from "../Scenario.js"
import type { Issued, Simulator } from "../Simulator.js"
import { type Case, type Context, demand, demandEqual, type Suite } from "../Suite.js"

/** A credentials document as JSON. @since 0.1.0 */
export type Document = Record<string, unknown>

/** What each case gives the adapter: a running simulator and a temp Claude config dir. @since 0.1.0 */
export interface Target {
  readonly sim: Simulator
  /** A temp Claude config dir (`CLAUDE_CONFIG_DIR`) holding the store and Claude Code's locks. */
  readonly configDir: string
}

/** What an adapter under the credential-store suite does: seed the store, read it back, and refresh. @since 0.1.0 */
export interface CredentialStoreAdapter {
  /** Puts a whole document in the store, as Claude Code would have left it. */
  readonly seed: (document: Document) => Promise<void>
  /** The whole document as Claude Code would read it; `null` when the store is empty. */
  readonly read: () => Promise<Document | null>
  /** Refreshes against the simulator; rejects with an Error whose message explains. */
  readonly refresh: (options: { readonly ifNeeded: boolean }) => Promise<{ readonly outcome: string }>
}

/** Makes a credential-store adapter for one case's simulator and config dir. @since 0.1.0 */
export type CredentialStoreFactory = (target: Target) => CredentialStoreAdapter | Promise<CredentialStoreAdapter>

const record = (login: Issued, extra: Document = {}): Document => ({
  accessToken: login.accessToken,
  refreshToken: login.refreshToken,
  expiresAt: login.expiresAt,
  scopes: [...login.scopes],
  subscriptionType: "max",
  rateLimitTier: "default_claude_max_20x",
  refreshTokenExpiresAt: login.expiresAt + 28 * 86_400_000,
  accountUuid: login.accountUuid,
  subscriptionTypeSource: "profile",
  someFutureField: { nested: [1, "two"] },
  ...extra
})

const fullDocument = (login: Issued, extra: Document = {}): Document => ({
  claudeAiOauth: record(login, extra),
  mcpOAuth: { "github|abc": { serverName: "github", accessToken: "mcp-token-not-ours", expiresAt: 1 } },
  mcpOAuthClientConfig: { github: { clientId: "x" } },
  pluginSecrets: { demo: "kept" },
  aFutureTopLevelKey: true
})

const OWNED = new Set(["accessToken", "refreshToken", "expiresAt", "scopes", "refreshTokenExpiresAt"])

const setup = async (factory: CredentialStoreFactory, context: Context, scenario: Scenario | string) => {
  const sim = await context.simulator({ scenario })
  const configDir = join(await context.tempDir(), ".claude")
  await mkdir(configDir, { recursive: true, mode: 0o700 })
  const adapter = await factory({ sim, configDir })
  return { sim, configDir, adapter }
}

const oauthOf = (document: Document | null): Document => (document?.["claudeAiOauth"] ?? {}) as Document

const rejects = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
  throw new Error("expected the refresh to fail, and it succeeded")
}

const noToken = (text: string, login: Issued, what: string) => {
  for (const token of [login.accessToken, login.refreshToken]) {
    demand(token === null || !text.includes(token), `${what} never contains a token`)
  }
}

const cases: ReadonlyArray<Case<CredentialStoreFactory, Capability>> = [
  {
    name: "a refresh keeps every top-level key and every login field it does not own",
    scenario: "expired-access-token",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "expired-access-token")
      const before = fullDocument(sim.account)
      await adapter.seed(before)
      const { outcome } = await adapter.refresh({ ifNeeded: true })
      demand(outcome === "Refreshed", `the expired login is refreshed (got ${outcome})`)
      demand(sim.count("token") === 1, `one token request (saw ${sim.count("token")})`)
      const after = await adapter.read()
      const issued = sim.current()
      for (const key of Object.keys(before).filter((k) => k !== "claudeAiOauth")) {
        demandEqual(after?.[key], before[key], `top-level ${key}`)
      }
      const was = oauthOf(before)
      const now = oauthOf(after)
      for (const field of Object.keys(was).filter((f) => !OWNED.has(f)))
        demandEqual(now[field], was[field], `claudeAiOauth.${field}`)
      demand(now["accessToken"] === issued.accessToken, "the new access token is stored")
      demand(now["refreshToken"] === issued.refreshToken, "the new refresh token is stored")
      demand(
        typeof now["expiresAt"] === "number" && Math.abs((now["expiresAt"] as number) - issued.expiresAt) < 10_000,
        "expiresAt is the new expiry, in ms"
      )
    }
  },
  {
    name: "a store without scopes gets the response's scope, so Claude Code does not log out",
    scenario: "expired-access-token (store without scopes)",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "expired-access-token")
      const document = fullDocument(sim.account)
      delete (document["claudeAiOauth"] as Document)["scopes"]
      await adapter.seed(document)
      await adapter.refresh({ ifNeeded: true })
      demandEqual(oauthOf(await adapter.read())["scopes"], [...sim.current().scopes], "stored scopes")
    }
  },
  {
    name: "a response without refresh_token keeps the stored refresh token",
    scenario: "rotation-omits-refresh-token",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "rotation-omits-refresh-token")
      await adapter.seed(fullDocument(sim.account))
      await adapter.refresh({ ifNeeded: true })
      const now = oauthOf(await adapter.read())
      demand(now["refreshToken"] === sim.account.refreshToken, "the old refresh token is kept")
      demand(now["accessToken"] === sim.current().accessToken, "the new access token is stored")
    }
  },
  {
    name: "a fresh login with --if-needed makes no call",
    scenario: "happy-path",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "happy-path")
      await adapter.seed(fullDocument(sim.account))
      const { outcome } = await adapter.refresh({ ifNeeded: true })
      demand(outcome === "NotNeeded", `nothing to do (got ${outcome})`)
      demand(sim.count("token") === 0, "no token request")
    }
  },
  {
    name: "a dead refresh token is reported, and the store is never blanked",
    scenario: "rotated-by-another-process",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "rotated-by-another-process")
      const before = fullDocument(sim.account)
      await adapter.seed(before)
      const message = await rejects(adapter.refresh({ ifNeeded: true }))
      demand(/log in again/i.test(message), `the user is told to log in again (${message.slice(0, 160)})`)
      noToken(message, sim.account, "the error")
      demandEqual(await adapter.read(), before, "the store")
    }
  },
  {
    name: "invalid_grant after a rotation by another process adopts the store's new login",
    scenario: "rotated-by-another-process, the other process writes while our request is in flight",
    run: async (factory, context) => {
      // The refusal is held back long enough for the other writer to finish, however slow its store is (a spawned
      // `security` under load takes hundreds of ms).
      const { sim, adapter } = await setup(factory, context, {
        ...find("rotated-by-another-process"),
        script: {
          token: [
            {
              status: 400,
              headers: { "content-type": "application/json" },
              body: '{"error":"invalid_grant","error_description":"Refresh token not found or invalid"}',
              delayMs: 3_000
            }
          ]
        }
      })
      await adapter.seed(fullDocument(sim.account))
      const pending = adapter.refresh({ ifNeeded: true })
      // Written once our refresh request has reached the token endpoint, not after a guessed delay: a store slow to
      // read could otherwise show the rotated login before we ask, and there would be nothing in flight to race.
      const sent = Date.now()
      while (sim.count("token") === 0) {
        if (Date.now() - sent > 20_000) break
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      demand(sim.count("token") === 1, "our refresh request reached the token endpoint")
      // A writer that ignores the lock puts the rotated login in place meanwhile.
      await adapter.seed(fullDocument(sim.current()))
      const { outcome } = await pending
      demand(outcome === "Adopted", `the rotated login is adopted (got ${outcome})`)
      demand(
        oauthOf(await adapter.read())["accessToken"] === sim.current().accessToken,
        "the store holds the rotated login"
      )
    }
  },
  {
    name: "a login without user:inference is never written",
    scenario: "expired-access-token, the server drops user:inference",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, {
        ...find("expired-access-token"),
        account: { expiresInMs: -60_000, scopes: ["user:profile"] }
      })
      const before = fullDocument(sim.account, { scopes: ["user:inference", "user:profile"] })
      await adapter.seed(before)
      const message = await rejects(adapter.refresh({ ifNeeded: true }))
      demand(/user:inference/.test(message), `the error names the missing scope (${message.slice(0, 160)})`)
      const now = oauthOf(await adapter.read())
      demand(now["accessToken"] === sim.account.accessToken, "the store was not overwritten")
    }
  },
  {
    name: "a 429 from the token endpoint leaves the store untouched and says refreshing is rate limited (throttled)",
    scenario: "refresh-429",
    run: async (factory, context) => {
      const { sim, adapter } = await setup(factory, context, "refresh-429")
      const before = fullDocument(sim.account)
      await adapter.seed(before)
      const message = await rejects(adapter.refresh({ ifNeeded: true }))
      demand(
        /rate limit|throttl/i.test(message) && /refresh/i.test(message),
        `explains the refresh rate limit (${message.slice(0, 160)})`
      )
      demandEqual(await adapter.read(), before, "the store")
    }
  },
  {
    name: "the file is replaced atomically with mode 0600 and no temp file left behind",
    scenario: "expired-access-token",
    requires: ["file"],
    run: async (factory, context) => {
      const { sim, adapter, configDir } = await setup(factory, context, "expired-access-token")
      await adapter.seed(fullDocument(sim.account))
      await adapter.refresh({ ifNeeded: true })
      const mode = (await stat(join(configDir, ".credentials.json"))).mode & 0o777
      demand(mode === 0o600, `mode 0600 (got ${mode.toString(8)})`)
      const { readdir } = await import("node:fs/promises")
      const stray = (await readdir(configDir)).filter(
        (n) => n.includes(".credentials.json") && n !== ".credentials.json"
      )
      demandEqual(stray, [], "temp files left in the config dir")
    }
  },
  {
    name: "while Claude Code holds its refresh lock, the writer waits instead of refreshing",
    scenario: "expired-access-token with a live .oauth_refresh.lock",
    requires: ["claudeLocks"],
    run: async (factory, context) => {
      const { sim, adapter, configDir } = await setup(factory, context, "expired-access-token")
      await adapter.seed(fullDocument(sim.account))
      const lock = join(configDir, ".oauth_refresh.lock")
      await mkdir(lock)
      await writeFile(`${lock}.owner`, JSON.stringify({ pid: process.pid }))
      const pending = adapter.refresh({ ifNeeded: true })
      await new Promise((resolve) => setTimeout(resolve, 1_200))
      demand(sim.count("token") === 0, "no token request while the lock is held")
      await rm(`${lock}.owner`, { force: true })
      await rm(lock, { recursive: true, force: true })
      const { outcome } = await pending
      demand(outcome === "Refreshed", `refreshes once the lock is released (got ${outcome})`)
      demand(sim.count("token") === 1, "exactly one token request")
    }
  }
]

/** What each capability of this suite means; a case names the ones it needs. @since 0.2.0 */
export const capabilities = {
  file: "writes the .credentials.json file itself",
  claudeLocks: "takes Claude Code's own lock directories"
} as const

/** A capability an adapter of this suite may declare. @since 0.2.0 */
export type Capability = keyof typeof capabilities

/** The credential-store suite: its cases and the capabilities they may need. @since 0.1.0 */
export const suite: Suite<CredentialStoreFactory, Capability> = {
  name: "credential-store",
  capabilities,
  cases
}
