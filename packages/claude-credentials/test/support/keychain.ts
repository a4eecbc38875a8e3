// What the Keychain tests share: a fake `security` in a temp dir, its log and store, and documents
// with fresh random tokens to write through it.
import { randomBytes } from "node:crypto"
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Credential } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { expect } from "vitest"
import type { StoreError } from "../../src/CredentialStore.js"
import * as StoreLocation from "../../src/StoreLocation.js"
import { fakeSecurityVars, writeFakeKeychain, writeFakeSecurity } from "./fakeSecurity.js"

/** One line of the fake's log: a run starting (its argv and cmdline) or a command it read on stdin. */
export interface LogEntry {
  readonly pid: number
  readonly event: "start" | "line"
  readonly argv?: ReadonlyArray<string>
  readonly cmdline?: ReadonlyArray<string>
  readonly line?: string
}

export interface Harness {
  readonly dir: string
  readonly storeFile: string
  readonly logFile: string
  /** A `security` for this test only: the fake, with its store and log here and `env` on top. */
  readonly security: (env?: Record<string, string>) => Promise<string>
  readonly log: () => Promise<ReadonlyArray<LogEntry>>
  /** Puts a password straight into the fake Keychain, as another program would have. */
  readonly seed: (service: string, account: string, password: string) => Promise<void>
}

/** A temp dir with the fake Keychain's store and log, removed when the test's scope closes. */
export const harness = Effect.acquireRelease(
  Effect.promise(async (): Promise<Harness> => {
    const dir = await mkdtemp(path.join(tmpdir(), "tollgate-keychain-"))
    const storeFile = path.join(dir, "keychain.json")
    const logFile = path.join(dir, "security.log")
    let launchers = 0
    return {
      dir,
      storeFile,
      logFile,
      security: async (env = {}) => {
        const file = path.join(dir, `bin-${launchers++}`, "security")
        await mkdir(path.dirname(file))
        return writeFakeSecurity(file, { ...fakeSecurityVars(storeFile, logFile), ...env })
      },
      log: async () => {
        const text = await readFile(logFile, "utf8").catch(() => "")
        // Read while the fake may be appending: a line still being written is skipped.
        return text.split("\n").flatMap((l) => {
          try {
            return [JSON.parse(l) as LogEntry]
          } catch {
            return []
          }
        })
      },
      seed: (service, account, password) => writeFakeKeychain(storeFile, [{ service, account, password }])
    }
  }),
  (h) => Effect.promise(() => rm(h.dir, { recursive: true, force: true }))
)

export const tokens = () => ({
  access: `sk-ant-oat01-${randomBytes(24).toString("base64url")}`,
  refresh: `sk-ant-ort01-${randomBytes(24).toString("base64url")}`
})

export type Tokens = ReturnType<typeof tokens>

/** A login with every field Claude Code writes, plus keys that are not ours and must survive a write. */
export const fullDocument = (t: Tokens, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  claudeAiOauth: {
    accessToken: t.access,
    refreshToken: t.refresh,
    expiresAt: 1_900_000_000_000,
    scopes: ["user:inference", "user:profile", "user:sessions:claude_code"],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x",
    refreshTokenExpiresAt: 1_902_000_000_000,
    subscriptionTypeSource: "profile",
    accountUuid: "0b7a6c1e-1111-4222-8333-944455556666",
    organizationUuid: "1c8b7d2f-1111-4222-8333-944455556666",
    clientId: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
    someFutureField: { nested: [1, "two", null, true] },
    ...extra
  },
  mcpOAuth: { "github|abc": { serverName: "github", accessToken: "mcp-token-not-ours", expiresAt: 1 } },
  mcpOAuthClientConfig: { github: { clientId: "x" } },
  pluginSecrets: { demo: "kept" },
  aFutureTopLevelKey: true
})

export const decode = Schema.decodeUnknownSync(Credential.Document)
export const encode = Schema.encodeSync(Credential.Document)

export const locationIn = (dir: string, env: Partial<StoreLocation.Environment> = {}) =>
  StoreLocation.resolve({ HOME: dir, USER: "jane doe", ...env })

/** The tokens as they must never appear: raw, and as the hex `security` carries them. */
export const secretsOf = (t: Tokens) => {
  const hex = (s: string) => Buffer.from(s, "utf8").toString("hex")
  return [t.access, t.refresh, hex(t.access), hex(t.refresh), hex(t.access).toUpperCase(), hex(t.refresh).toUpperCase()]
}

export const expectNoSecret = (text: string, t: Tokens) => {
  for (const secret of secretsOf(t)) expect(text).not.toContain(secret)
}

export const storeError = (error: StoreError) => ({
  backend: error.backend,
  operation: error.operation,
  reason: error.reason
})
