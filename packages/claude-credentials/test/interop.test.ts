// The interop race: four tollgate refreshers (the library in separate
// processes, against the simulator's plain-HTTP URL) and four real
// `claude auth status` processes (Claude Code 2.1.330 through the simulator's
// MITM proxy) started together on ONE expired store. Refresh tokens are
// single-use, so two refreshes would log the user out: the simulator must see
// exactly one token POST, everybody must end up on the new token, and the
// file must still be a complete Claude Code login.
//
// Claude Code 2.1.330's `auth status` gives up after ~0.5–1 s when it finds
// `.oauth_refresh.lock` held, without refreshing, and still says loggedIn; the
// tollgate side waits for the lock (30 s by default) and then adopts.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import type * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type AuthStatus, claudeAuthStatus, makeTempHome } from "@tollgate/conformance/ClaudeCode"
import { type MitmProxy, startMitm } from "@tollgate/conformance/Mitm"
import * as Simulator from "@tollgate/conformance/Simulator"
import { Credential } from "@tollgate/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Ended, makeWorkspace, resultOf, spawnNode, type Workspace } from "./harness/bundle.js"

const ROUNDS = 20
const TOLLGATES = 4
const CLAUDES = 4

let workspace: Workspace
let proxy: MitmProxy
let certs: string
// One proxy (and one throwaway CA) for every round; it hands requests to the round's simulator.
let current: Simulator.Simulator | undefined
const route: http.RequestListener = (req, res) => {
  if (current) current.listener(req, res)
  else res.writeHead(503).end()
}

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-interop-")
  certs = await mkdtemp(join(tmpdir(), "tollgate-interop-certs-"))
  proxy = await startMitm({ handler: route, dir: certs, ttlMs: 10 * 60_000 })
})

afterAll(async () => {
  await proxy?.close()
  await workspace?.cleanup()
  if (certs) await rm(certs, { recursive: true, force: true })
})

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface Round {
  readonly index: number
  readonly goDelay: number
  readonly ms: number
  /** Who made the one token POST: Claude Code comes through the MITM proxy (Host platform.claude.com). */
  readonly refresher: "tollgate" | "claude" | "none" | "several"
  /** The User-Agent of the token POST(s). */
  readonly userAgents: ReadonlyArray<string>
  readonly outcomes: ReadonlyArray<string>
  readonly failures: ReadonlyArray<string>
}

// Started at the same instant the tollgates, already loaded, always win (a claude needs ~0.3 s
// to reach its lock); so the go-file is also held back a little in most rounds, to let Claude
// Code get to the lock first sometimes and race it from every side.
const GO_DELAYS_MS = [0, 0, 150, 250, 300, 325, 350, 375, 400, 500]

const runRound = async (index: number): Promise<Round> => {
  const failures: Array<string> = []
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what)
  }
  const sim = await Simulator.start({ scenario: "expired-access-token", ttlMs: 120_000 })
  current = sim
  const home = await makeTempHome("tollgate-interop-home-")
  try {
    const file = join(home.claudeDir, ".credentials.json")
    const mcpOAuth = { "linear|4f1c": { serverName: "linear", accessToken: "mcp-not-ours", expiresAt: 1 } }
    await writeFile(
      file,
      JSON.stringify({
        claudeAiOauth: {
          accessToken: sim.account.accessToken,
          refreshToken: sim.account.refreshToken,
          expiresAt: sim.account.expiresAt,
          scopes: [...sim.account.scopes],
          subscriptionType: "max",
          rateLimitTier: sim.account.rateLimitTier
        },
        mcpOAuth
      }),
      { mode: 0o600 }
    )
    const goFile = join(home.home, "go")
    const tollgates = Array.from({ length: TOLLGATES }, () =>
      spawnNode(workspace.harness, ["refresh", sim.url, goFile], home.env, { timeoutMs: 60_000 })
    )
    await Promise.all(tollgates.map((t) => t.printed("ready")))

    const started = Date.now()
    const goDelay = GO_DELAYS_MS[index % GO_DELAYS_MS.length] ?? 0
    const go = goDelay === 0 ? writeFile(goFile, "") : delay(goDelay).then(() => writeFile(goFile, ""))
    const claudes = Array.from({ length: CLAUDES }, () =>
      claudeAuthStatus({ env: { ...home.env, ...proxy.env }, timeoutMs: 45_000 })
    )
    await go
    const [ended, statuses] = await Promise.all([Promise.all(tollgates.map((t) => t.ended)), Promise.all(claudes)])
    const ms = Date.now() - started

    const issued = sim.current()
    const expected = Credential.fingerprint(issued.accessToken)
    const posts = sim.log.filter((r) => r.route === "token")
    check(
      posts.length === 1,
      `expected exactly 1 token POST, saw ${posts.length} (${posts.map((p) => `${p.host} ${p.userAgent} → ${p.outcome}`).join("; ")})`
    )
    const byClaude = posts.filter((p) => p.host === "platform.claude.com").length
    const byTollgate = posts.length - byClaude
    const refresher: Round["refresher"] =
      posts.length === 0 ? "none" : posts.length > 1 ? "several" : byClaude === 1 ? "claude" : "tollgate"

    const outcomes = ended.map((e: Ended, i) => {
      const result = resultOf(e.stdout)
      check(
        e.code === 0,
        `tollgate #${i} exited ${e.code ?? e.signal}: ${result?.tag ?? ""} ${result?.message ?? e.stderr.slice(0, 400)}`
      )
      check(result?.ok === true, `tollgate #${i} reported no success`)
      check(
        result?.outcome === "Refreshed" || result?.outcome === "Adopted" || result?.outcome === "NotNeeded",
        `tollgate #${i} outcome ${String(result?.outcome)}`
      )
      check(
        result?.fingerprint === expected,
        `tollgate #${i} ended on access token ${String(result?.fingerprint)}, the issued one is ${expected}`
      )
      return result?.outcome ?? `failed:${result?.tag ?? e.code}`
    })
    const refreshedByTollgate = outcomes.filter((o) => o === "Refreshed").length
    check(
      refreshedByTollgate === byTollgate,
      `${refreshedByTollgate} tollgate process(es) said Refreshed but ${byTollgate} token POST(s) came from tollgate`
    )

    statuses.forEach((s: AuthStatus, i) => {
      check(
        s.exitCode === 0,
        `claude #${i} exited ${s.exitCode}${s.timedOut ? " (timed out)" : ""}: ${s.stderr.slice(0, 400)}`
      )
      check(s.json?.["loggedIn"] === true, `claude #${i} loggedIn ${String(s.json?.["loggedIn"])}`)
    })

    const text = await readFile(file, "utf8")
    let document: Record<string, unknown> | null = null
    try {
      document = JSON.parse(text) as Record<string, unknown>
    } catch {
      check(false, "the final file does not parse")
    }
    check(((await stat(file)).mode & 0o777) === 0o600, `final mode ${((await stat(file)).mode & 0o777).toString(8)}`)
    const oauth = (document?.["claudeAiOauth"] ?? {}) as Record<string, unknown>
    // Compared as booleans so a failure message never carries a token.
    check(oauth["accessToken"] === issued.accessToken, "the file does not hold the issued access token")
    check(oauth["refreshToken"] === issued.refreshToken, "the file does not hold the issued refresh token")
    check(JSON.stringify(document?.["mcpOAuth"]) === JSON.stringify(mcpOAuth), "mcpOAuth was not kept")
    check(
      JSON.stringify(oauth["scopes"]) === JSON.stringify([...issued.scopes]),
      `scopes now ${JSON.stringify(oauth["scopes"])}`
    )
    check(oauth["subscriptionType"] === "max", `subscriptionType now ${String(oauth["subscriptionType"])}`)

    // Nothing of the refresh protocol is left behind: no lock, owner record or temp store file.
    // (Claude Code's own `backups/` and `~/.claude.json.lock` are its business.)
    const left = [
      ...(await readdir(home.claudeDir)).filter((n) =>
        /^\.(oauth_refresh\.lock|storage-write\.lock|credentials\.json.)/.test(n)
      ),
      ...(await readdir(home.home)).filter((n) => n === ".claude.lock")
    ]
    check(left.length === 0, `left behind: ${left.join(", ")}`)
    // A tollgate that lost its lock to a taker (Claude Code judging it stale or dead) says so in a warning.
    ended.forEach((e, i) => {
      check(!/taken over/.test(e.stderr), `tollgate #${i} lost a lock: ${e.stderr.slice(0, 400)}`)
    })
    return { index, goDelay, ms, refresher, userAgents: posts.map((p) => p.userAgent ?? "none"), outcomes, failures }
  } finally {
    current = undefined
    await sim.close()
    await home.cleanup()
  }
}

describe("interop race: tollgate refreshers and real `claude auth status` on one expired store", () => {
  it(`${ROUNDS} rounds of ${TOLLGATES} tollgate + ${CLAUDES} claude processes: one token POST, everyone on the new token`, async () => {
    const rounds: Array<Round> = []
    for (let i = 0; i < ROUNDS; i++) {
      const round = await runRound(i)
      rounds.push(round)
      console.log(
        `round ${String(i + 1).padStart(2)}: ${String(round.ms).padStart(5)} ms (go +${round.goDelay} ms), refreshed by ${round.refresher} (${round.userAgents.join(", ")}), tollgate outcomes ${round.outcomes.join(",")}${round.failures.length ? ` — FAILED: ${round.failures.join(" | ")}` : ""}`
      )
    }
    const failed = rounds.filter((r) => r.failures.length > 0)
    const count = (who: Round["refresher"]) => rounds.filter((r) => r.refresher === who).length
    const times = rounds.map((r) => r.ms).sort((a, b) => a - b)
    // Rounds where a tollgate found the store expired, waited on Claude Code's lock, and adopted its token.
    const waitedOnClaude = rounds.filter((r) => r.refresher === "claude" && r.outcomes.includes("Adopted")).length
    console.log(
      `${ROUNDS} rounds: tollgate refreshed ${count("tollgate")}, claude refreshed ${count("claude")}, ${failed.length} failures` +
        ` (tollgate adopted claude's refresh after waiting on its lock in ${waitedOnClaude})` +
        ` (round time median ${times[Math.floor(times.length / 2)]} ms, max ${times[times.length - 1]} ms)`
    )
    expect(failed.map((r) => `round ${r.index + 1}: ${r.failures.join(" | ")}`)).toEqual([])
  }, 170_000)
})
