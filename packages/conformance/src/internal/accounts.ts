// The simulator's token book: who holds which access and refresh token, and
// what happens to a refresh token once it has been used (it is dead).
import { randomBytes, randomUUID } from "node:crypto"
import type { AccountSeed } from "../Scenario.js"

export const FULL_SCOPES: ReadonlyArray<string> = [
  "user:profile",
  "user:inference",
  "user:sessions:claude_code",
  "user:mcp_servers",
  "user:file_upload"
]

export const ACCESS_TTL_SECONDS = 8 * 60 * 60

export interface Account {
  readonly uuid: string
  readonly organizationUuid: string
  readonly email: string
  scopes: ReadonlyArray<string>
  subscriptionType: string
  rateLimitTier: string
  omitRefreshToken: boolean
  utilization: { fiveHour: number; sevenDay: number }
  accessToken: string
  refreshToken: string | null
  expiresAt: number
  /** Access tokens replaced by a rotation; the usage endpoint answers them with 429. */
  readonly retiredAccess: Set<string>
  /** Refresh tokens already used; presenting one again is invalid_grant. */
  readonly usedRefresh: Set<string>
  rotations: number
}

export interface Issued {
  readonly accountUuid: string
  readonly accessToken: string
  readonly refreshToken: string | null
  readonly expiresAt: number
  readonly scopes: ReadonlyArray<string>
  readonly subscriptionType: string
  readonly rateLimitTier: string
}

const token = (kind: "oat01" | "ort01") => `sk-ant-${kind}-sim-${randomBytes(24).toString("base64url")}`

export class TokenBook {
  private readonly accounts: Array<Account> = []

  constructor(private readonly now: () => number) {}

  seed(seed: AccountSeed = {}): Issued {
    const setup = seed.setupToken === true
    const account: Account = {
      uuid: randomUUID(),
      organizationUuid: randomUUID(),
      email: `user${this.accounts.length + 1}@example.test`,
      scopes: seed.scopes ?? (setup ? ["user:inference"] : FULL_SCOPES),
      subscriptionType: seed.subscriptionType ?? "max",
      rateLimitTier: seed.rateLimitTier ?? "default_claude_max_20x",
      omitRefreshToken: seed.omitRefreshToken ?? false,
      utilization: { ...(seed.utilization ?? { fiveHour: 42, sevenDay: 13 }) },
      accessToken: token("oat01"),
      refreshToken: setup ? null : token("ort01"),
      expiresAt: this.now() + (seed.expiresInMs ?? (setup ? 365 * 86_400_000 : ACCESS_TTL_SECONDS * 1000)),
      retiredAccess: new Set(),
      usedRefresh: new Set(),
      rotations: 0
    }
    this.accounts.push(account)
    return this.issued(account)
  }

  issued(account: Account): Issued {
    return {
      accountUuid: account.uuid,
      accessToken: account.accessToken,
      refreshToken: account.refreshToken,
      expiresAt: account.expiresAt,
      scopes: account.scopes,
      subscriptionType: account.subscriptionType,
      rateLimitTier: account.rateLimitTier
    }
  }

  get primary(): Account | undefined {
    return this.accounts[0]
  }

  all(): ReadonlyArray<Account> {
    return this.accounts
  }

  byAccess(accessToken: string): { account: Account; state: "current" | "expired" | "retired" } | null {
    for (const account of this.accounts) {
      if (account.accessToken === accessToken) {
        return { account, state: this.now() >= account.expiresAt ? "expired" : "current" }
      }
      if (account.retiredAccess.has(accessToken)) return { account, state: "retired" }
    }
    return null
  }

  /** Rotates on a valid refresh token; `null` for an unknown or already used one. */
  rotate(refreshToken: string): { account: Account; omitRefreshToken: boolean } | null {
    const account = this.accounts.find((a) => a.refreshToken === refreshToken)
    if (!account) return null
    account.retiredAccess.add(account.accessToken)
    account.accessToken = token("oat01")
    account.expiresAt = this.now() + ACCESS_TTL_SECONDS * 1000
    account.rotations++
    if (!account.omitRefreshToken) {
      account.usedRefresh.add(refreshToken)
      account.refreshToken = token("ort01")
    }
    return { account, omitRefreshToken: account.omitRefreshToken }
  }

  /** Another process refreshed: the tokens the caller holds are now stale. */
  rotateElsewhere(account: Account | undefined = this.primary): Issued | null {
    if (!account?.refreshToken) return null
    this.rotate(account.refreshToken)
    return this.issued(account)
  }

  /** Makes the current access token expire now (the refresh token stays valid). */
  expire(account: Account | undefined = this.primary): void {
    if (account) account.expiresAt = this.now() - 1
  }
}
