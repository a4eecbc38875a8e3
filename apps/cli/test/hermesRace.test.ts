// The Hermes judge's race: 2 Hermes processes (Hermes Agent's own credential code, the pinned copy in
// ../shared/realclients), 2 real `claude auth status` (both through the MITM proxy) and 1 request through the
// tollgate gateway, all on ONE Claude Code login that has just expired, released together by a go-file. Refresh
// tokens are single-use: a second token POST in a rotation is at best wasted and at worst an invalid_grant that
// logs the user out, and Hermes's write-back drops subscriptionType.
//
// Without tollgate's Hermes adapter the losses show (the test demands at least one, so it can fail); after
// `tollgate hermes install` in the same HERMES_HOME every rotation is exactly one token POST, no invalid_grant, the
// login stays whole and every participant gets a token or an answer.
//
// Every round is a rotation: the store's expiresAt is set in the past (the tokens stay the server's current ones)
// and the simulator's clock is moved past that access token's expiry, so the server agrees it has expired. The
// plugin runs a bundled tollgate, as a user's does (the TypeScript source under tsx takes ~4 s to start).
import { readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { type AuthStatus, claudeAuthStatus } from "@tollgate/conformance/ClaudeCode"
import type { RecordedRequest } from "@tollgate/conformance/Simulator"
import * as StoreLocation from "@tollgate/claude-credentials/StoreLocation"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Gateway from "@tollgate/gateway/Gateway"
import * as GatewayKey from "@tollgate/gateway/GatewayKey"
import { describe, expect } from "vitest"
import {
  bundleTollgate,
  HERMES_TOKEN_UA,
  type HermesResult,
  hermesWorld,
  type HermesWorld,
  type Mode,
  startHermes
} from "./support/hermes.js"
import { collect, test as it } from "./tollgate.js"

const WITH_ADAPTER_ROUNDS = 50
// Enough for the losses to show every time: 11 of 12 rounds lost something in the runs so far.
const WITHOUT_ADAPTER_ROUNDS = 12
// Every Hermes path that refreshes Claude Code's login without tollgate: the agent start, the credential pool,
// and the two 401-recovery paths (which the plugin routes through `tollgate token`).
const PAIRS: ReadonlyArray<readonly [Mode, Mode]> = [
  ["resolve", "pool"],
  ["force", "aux401"],
  ["resolve", "force"],
  ["pool", "aux401"]
]
// The claudes start at 0; Hermes (already loaded, waiting on the go-file) and the gateway request at these
// delays (cycles of coprime lengths), so that each of them reaches the expired login first in some rounds: a
// claude needs ~0.5-1.1 s to get there on two busy cores, Hermes a few ms after its go-file, the gateway less.
const GO_DELAYS_MS = [0, 0, 150, 300, 500, 800, 1100, 1400, 1800, 2200]
const GATEWAY_DELAYS_MS = [0, 100, 300, 600, 1000, 1500, 2000]

type Arm = "without adapter" | "with adapter"
type Who = "hermes" | "claude" | "gateway" | "tollgate token"

interface Round {
  readonly arm: Arm
  readonly index: number
  readonly modes: readonly [Mode, Mode]
  readonly ms: number
  readonly posts: ReadonlyArray<{
    readonly who: Who
    readonly atMs: number
    readonly outcome: RecordedRequest["outcome"]
    readonly invalidGrant: boolean
  }>
  readonly goMs: number
  readonly gatewayMs: number
  /** The store does not hold the server's current tokens: the next refresh would be invalid_grant. */
  readonly loggedOut: boolean
  readonly subscriptionKept: boolean
  /** Participants that got no token (Hermes, claude) or no answer (gateway). */
  readonly empty: ReadonlyArray<string>
  /** Everything else that went wrong, for the adapter arm's verdict. */
  readonly failures: ReadonlyArray<string>
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// The gateway's token requests carry this User-Agent (an HTTP library's, as core's default, plus a marker), so a
// round's POSTs can be told apart from `tollgate token`'s (the plugin's), which keep core's default.
const GATEWAY_TOKEN_UA = `${OAuthConfig.make().userAgent.token} tollgate-gateway`

// Token POSTs reach the simulator directly from tollgate (the gateway, `tollgate token`), and through the MITM
// proxy (Host platform.claude.com or console.anthropic.com) from Hermes's urllib and from Claude Code.
const whoPosted = (r: RecordedRequest, simHost: string): Who =>
  r.host === simHost
    ? r.userAgent === GATEWAY_TOKEN_UA
      ? "gateway"
      : "tollgate token"
    : r.userAgent === HERMES_TOKEN_UA
      ? "hermes"
      : "claude"

// The simulator answers a spent or unknown refresh token with 400 invalid_grant (its only 400 for a refresh grant).
const isInvalidGrant = (r: RecordedRequest) =>
  r.outcome === 400 && r.body.grantType === "refresh_token" && r.body.refreshToken !== undefined

interface Race {
  readonly world: HermesWorld
  readonly gateway: Gateway.Running
  readonly key: string
  /** Moves the simulator's clock (only ever forward). */
  readonly setSkew: (ms: number) => void
  readonly skew: () => number
}

const readStore = async (world: HermesWorld): Promise<Record<string, unknown>> => {
  try {
    return JSON.parse(await readFile(world.store, "utf8")) as Record<string, unknown>
  } catch {
    return {}
  }
}

const oauthOf = (document: Record<string, unknown>) => (document["claudeAiOauth"] ?? {}) as Record<string, unknown>

/**
 * Makes the next round a rotation. The store keeps what the last round left when that is still the server's
 * current login (only expiresAt moves into the past); a login a round broke is replaced by the server's current
 * one, as a user logging in again would, so every round is judged on its own.
 */
const reExpire = async (race: Race) => {
  const { world } = race
  const issued = world.sim.current()
  race.setSkew(Math.max(race.skew(), issued.expiresAt - Date.now() + 1_000))
  const document = await readStore(world)
  const held = oauthOf(document)
  const whole =
    held["accessToken"] === issued.accessToken &&
    held["refreshToken"] === issued.refreshToken &&
    held["subscriptionType"] === "max"
  const record = whole
    ? { ...held, expiresAt: Date.now() - 1_000 }
    : {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresAt: Date.now() - 1_000,
        scopes: [...issued.scopes],
        subscriptionType: "max",
        rateLimitTier: "default_claude_max_20x"
      }
  const tmp = `${world.store}.race-tmp`
  await writeFile(tmp, JSON.stringify({ ...document, claudeAiOauth: record }), { mode: 0o600 })
  await rename(tmp, world.store)
}

const runRound = async (race: Race, arm: Arm, index: number): Promise<Round> => {
  const { world, gateway, key } = race
  const failures: Array<string> = []
  const empty: Array<string> = []
  await reExpire(race)
  const modes = PAIRS[index % PAIRS.length]!
  const goFile = join(world.sandbox.root, `go-${arm === "with adapter" ? "with" : "without"}-${index}`)
  const hermes = modes.map((mode) => startHermes(world, mode, 1, goFile))
  await Promise.all(hermes.map((h) => h.ready))
  const from = world.sim.log.length

  const started = Date.now()
  const goDelay = GO_DELAYS_MS[index % GO_DELAYS_MS.length]!
  const claudes = [0, 1].map(() => claudeAuthStatus({ env: world.env, timeoutMs: 45_000 }))
  const go = delay(goDelay).then(() => writeFile(goFile, ""))
  const gatewayMs = GATEWAY_DELAYS_MS[index % GATEWAY_DELAYS_MS.length]!
  const answer = delay(gatewayMs).then(async () => {
    const response = await fetch(`${gateway.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": key },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
    })
    return { status: response.status, text: await response.text() }
  })
  await go
  const [results, statuses, reply] = await Promise.all([
    Promise.all(hermes.map((h) => h.results.then((r) => r[0]!))),
    Promise.all(claudes),
    answer
  ])
  const ms = Date.now() - started

  const simHost = new URL(world.sim.url).host
  const tokenRequests = world.sim.log.slice(from).filter((r) => r.route === "token")
  // The simulator's clock runs `skew` ahead.
  const posts = tokenRequests.map((r) => ({
    who: whoPosted(r, simHost),
    atMs: r.at - race.skew() - started,
    outcome: r.outcome,
    invalidGrant: isInvalidGrant(r)
  }))

  results.forEach((h: HermesResult, i) => {
    const name = `hermes ${modes[i]}`
    if (h.result?.ok !== true) empty.push(name)
    if (h.run.code !== 0) failures.push(`${name} exited ${h.run.code}: ${h.run.stderr.slice(-300)}`)
    if (arm === "with adapter" && /tollgate/.test(h.run.stderr))
      failures.push(`${name} warned: ${h.run.stderr.slice(-300)}`)
  })
  statuses.forEach((s: AuthStatus, i) => {
    if (s.exitCode !== 0 || s.json?.["loggedIn"] !== true)
      empty.push(`claude #${i} (exit ${s.exitCode}, loggedIn ${String(s.json?.["loggedIn"])})`)
    if (s.json !== null && s.json["subscriptionType"] !== "max")
      failures.push(`claude #${i} saw subscriptionType ${String(s.json["subscriptionType"])}`)
  })
  if (reply.status !== 200) empty.push(`gateway (${reply.status}: ${reply.text.slice(0, 200)})`)

  const issued = world.sim.current()
  const held = oauthOf(await readStore(world))
  // Compared as booleans, so no message ever carries a token.
  const loggedOut =
    statuses.some((s) => s.json?.["loggedIn"] === false) ||
    held["accessToken"] !== issued.accessToken ||
    held["refreshToken"] !== issued.refreshToken
  const subscriptionKept = held["subscriptionType"] === "max" && held["rateLimitTier"] === "default_claude_max_20x"
  return { arm, index, modes, ms, goMs: goDelay, gatewayMs, posts, loggedOut, subscriptionKept, empty, failures }
}

const lossesOf = (round: Round) => [
  ...(round.posts.length !== 1 ? [`${round.posts.length} token POSTs`] : []),
  ...(round.posts.some((p) => p.invalidGrant)
    ? [`${round.posts.filter((p) => p.invalidGrant).length} invalid_grant`]
    : []),
  ...(round.loggedOut ? ["logged out"] : []),
  ...(round.subscriptionKept ? [] : ["subscriptionType lost"]),
  ...round.empty.map((who) => `no token: ${who}`)
]

const describeRound = (round: Round) => {
  const posts =
    round.posts.map((p) => `${p.who}@${p.atMs}→${p.outcome}${p.invalidGrant ? " invalid_grant" : ""}`).join(", ") ||
    "none"
  const lost = [...lossesOf(round), ...round.failures]
  return (
    `${round.arm} round ${String(round.index + 1).padStart(2)} [${round.modes.join("+")}, go +${round.goMs}, gateway +${round.gatewayMs}]: ${String(round.ms).padStart(5)} ms, token POSTs: ${posts}` +
    (lost.length ? ` — ${lost.join(" | ")}` : "")
  )
}

const summary = (arm: Arm, rounds: ReadonlyArray<Round>) => {
  const posts = rounds.flatMap((r) => r.posts)
  const by = (who: Who) => posts.filter((p) => p.who === who).length
  const times = rounds.map((r) => r.ms).sort((a, b) => a - b)
  return {
    arm,
    rounds: rounds.length,
    tokenPosts: posts.length,
    roundsNotOnePost: rounds.filter((r) => r.posts.length !== 1).length,
    invalidGrant: posts.filter((p) => p.invalidGrant).length,
    loggedOut: rounds.filter((r) => r.loggedOut).length,
    subscriptionLost: rounds.filter((r) => !r.subscriptionKept).length,
    noToken: rounds.reduce((n, r) => n + r.empty.length, 0),
    text:
      `${arm}: ${rounds.length} rounds, ${posts.length} token POSTs (hermes ${by("hermes")}, claude ${by("claude")}, gateway ${by("gateway")}, tollgate token ${by("tollgate token")}), ` +
      `${rounds.filter((r) => r.posts.length !== 1).length} rounds ≠ 1 POST, ${posts.filter((p) => p.invalidGrant).length} invalid_grant, ` +
      `${rounds.filter((r) => r.loggedOut).length} logged out, ${rounds.filter((r) => !r.subscriptionKept).length} lost subscriptionType, ` +
      `${rounds.reduce((n, r) => n + r.empty.length, 0)} participants without a token; round median ${times[Math.floor(times.length / 2)]} ms, max ${times[times.length - 1]} ms`
  }
}

describe("Hermes judge: the race on one expiring Claude Code login", () => {
  it(`2 Hermes + 2 claude + 1 gateway client: ${WITHOUT_ADAPTER_ROUNDS} rounds without the adapter lose, ${WITH_ADAPTER_ROUNDS} rounds after \`tollgate hermes install\` are one token POST each`, async ({
    sandbox
  }) => {
    const cli = await bundleTollgate(sandbox.root)
    let skew = 0
    const world = await hermesWorld(sandbox, -60_000, { ttlMs: 600_000, now: () => Date.now() + skew })
    // In-process and alive across rounds, as a user's gateway is: it reads the store on every request, so its
    // memory of the last round's token is part of what is judged. Its locks are files, so being in this process
    // does not make it a friendlier racer than a separate one.
    const key = await GatewayKey.ensure(join(sandbox.home, ".config", "tollgate", "gateway.key"))
    const gateway = await Gateway.listen({
      accounts: [{ type: "claude-code", location: StoreLocation.resolve({ HOME: sandbox.home }) }],
      key,
      settings: OAuthConfig.make({
        apiBaseUrl: world.sim.url,
        oauthBaseUrl: world.sim.url,
        userAgent: { ...OAuthConfig.make().userAgent, token: GATEWAY_TOKEN_UA }
      }),
      port: 0
    })
    const race: Race = { world, gateway, key, setSkew: (ms) => (skew = ms), skew: () => skew }
    try {
      const arms: Record<Arm, Array<Round>> = { "without adapter": [], "with adapter": [] }
      const play = async (arm: Arm, count: number) => {
        for (let i = 0; i < count; i++) {
          const round = await runRound(race, arm, i)
          arms[arm].push(round)
          console.log(describeRound(round))
        }
      }
      await play("without adapter", WITHOUT_ADAPTER_ROUNDS)
      // Installed by a built tollgate, so the plugin runs that one (see bundleTollgate).
      const installed = await collect(
        process.execPath,
        [cli, "hermes", "install", "--port", String(gateway.port)],
        sandbox.root,
        world.env,
        { timeoutMs: 20_000 }
      )
      expect(installed.code, installed.stderr).toBe(0)
      await play("with adapter", WITH_ADAPTER_ROUNDS)

      const without = summary("without adapter", arms["without adapter"])
      const withAdapter = summary("with adapter", arms["with adapter"])
      console.log(`Hermes race — ${without.text}. ${withAdapter.text}.`)

      // Without the adapter: at least one loss, or this test could not fail.
      expect(
        without.roundsNotOnePost + without.invalidGrant + without.subscriptionLost + without.loggedOut,
        without.text
      ).toBeGreaterThan(0)
      // With it: every rotation one token POST, nothing lost, everyone served.
      const bad = arms["with adapter"].filter((r) => lossesOf(r).length > 0 || r.failures.length > 0).map(describeRound)
      expect(bad).toEqual([])
      expect(withAdapter).toMatchObject({
        tokenPosts: WITH_ADAPTER_ROUNDS,
        invalidGrant: 0,
        loggedOut: 0,
        subscriptionLost: 0,
        noToken: 0
      })
    } finally {
      await gateway.close(1_000)
      await world.close()
    }
  }, 280_000)
})
