// The refresh lock against the real Claude Code 2.1.330, through the simulator's MITM proxy.
import * as fs from "node:fs/promises"
import type * as http from "node:http"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { claudeAuthStatus, makeTempHome } from "@tollgate/conformance/ClaudeCode"
import { startMitm } from "@tollgate/conformance/Mitm"
import * as Simulator from "@tollgate/conformance/Simulator"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as RefreshLock from "../src/RefreshLock.js"
import { storeAt, leftovers, nothingLeft, realSleep } from "./support/refreshLock.js"

describe("interop with Claude Code 2.1.330 (through the simulator's MITM proxy)", () => {
  const SCOPES = ["user:inference", "user:profile", "user:sessions:claude_code"]

  /** An expired store in a temp HOME, a simulator and a proxy whose token answers can be held back. */
  const claudeSetup = (tokenDelayMs: number) =>
    Effect.gen(function* () {
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => Simulator.start({ scenario: "expired-access-token", ttlMs: 120_000 })),
        (s) => Effect.promise(() => s.close())
      )
      const certs = yield* Effect.acquireRelease(
        Effect.promise(() => fs.mkdtemp(path.join(tmpdir(), "tollgate-lock-mitm-"))),
        (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
      )
      const handler: http.RequestListener = (req, res) => {
        // Holding the token answer back keeps Claude Code inside its refresh lock meanwhile.
        if (req.method === "POST" && (req.url ?? "").includes("/oauth/token") && tokenDelayMs > 0) {
          setTimeout(() => sim.listener(req, res), tokenDelayMs)
        } else sim.listener(req, res)
      }
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() => startMitm({ handler, dir: certs, ttlMs: 120_000 })),
        (p) => Effect.promise(() => p.close())
      )
      const home = yield* Effect.acquireRelease(
        Effect.promise(() => makeTempHome("tollgate-lock-claude-")),
        (h) => Effect.promise(() => h.cleanup())
      )
      const store = yield* storeAt(home.env["CLAUDE_CONFIG_DIR"] ?? home.claudeDir, home.home)
      yield* Effect.promise(() =>
        fs.writeFile(
          store.location.file,
          JSON.stringify({
            claudeAiOauth: {
              accessToken: sim.account.accessToken,
              refreshToken: sim.account.refreshToken,
              expiresAt: sim.account.expiresAt,
              scopes: SCOPES,
              subscriptionType: "max",
              rateLimitTier: "default_claude_max_20x"
            },
            mcpOAuth: {}
          }),
          { mode: 0o600 }
        )
      )
      return { sim, store, env: { ...home.env, ...proxy.env } }
    })

  it.scopedLive(
    "Claude Code honours our lock: `claude auth status` on an expired store makes no token POST",
    () =>
      Effect.gen(function* () {
        const { sim, store, env } = yield* claudeSetup(0)
        const status = yield* RefreshLock.withRefreshLock(store.location)(
          Effect.gen(function* () {
            const result = yield* Effect.promise(() => claudeAuthStatus({ env, timeoutMs: 30_000 }))
            // Our lock and record are intact after Claude Code looked at them.
            expect(yield* RefreshLock.inspect(store.location)).toMatchObject({
              held: true,
              owner: { pid: process.pid, alive: true },
              legacyHeld: true
            })
            return result
          })
        )
        expect(status.exitCode, status.stderr).toBe(0)
        expect(status.json?.["loggedIn"]).toBe(true)
        expect(sim.count("token")).toBe(0)
        expect(yield* leftovers(store)).toEqual(nothingLeft)
      }),
    60_000
  )

  it.scopedLive(
    "we honour Claude Code's lock: withRefreshLock waits until Claude Code has refreshed and released it",
    () =>
      Effect.gen(function* () {
        const { sim, store, env } = yield* claudeSetup(1_500)
        const claude = yield* Effect.fork(Effect.promise(() => claudeAuthStatus({ env, timeoutMs: 30_000 })))
        // Claude Code writes its owner record once it holds both lock directories.
        let claudeOwner: { pid: number } | undefined
        for (let i = 0; i < 1_000 && claudeOwner === undefined; i++) {
          const text = yield* Effect.promise(() => fs.readFile(store.owner, "utf8").catch(() => ""))
          if (text !== "") claudeOwner = JSON.parse(text) as { pid: number }
          else yield* realSleep(10)
        }
        expect(claudeOwner?.pid).not.toBe(process.pid)
        expect(sim.count("token")).toBeLessThanOrEqual(1)

        const inside = yield* RefreshLock.withRefreshLock(store.location, { retryMs: 20, waitMs: 20_000 })(
          Effect.gen(function* () {
            const owner = JSON.parse(yield* Effect.promise(() => fs.readFile(store.owner, "utf8"))) as { pid: number }
            const document = JSON.parse(yield* Effect.promise(() => fs.readFile(store.location.file, "utf8"))) as {
              claudeAiOauth: Record<string, unknown>
              mcpOAuth?: unknown
            }
            return { owner, document, tokenOutcomes: sim.log.filter((r) => r.route === "token").map((r) => r.outcome) }
          })
        )
        // By the time we got the lock, Claude Code had its answer and had written the store.
        expect(inside.owner.pid).toBe(process.pid)
        expect(inside.tokenOutcomes).toEqual([200])
        const issued = sim.current()
        const oauth = inside.document.claudeAiOauth
        // Booleans, not values, so a failure never prints a token.
        expect(oauth["accessToken"] === issued.accessToken, "store holds the rotated access token").toBe(true)
        expect(oauth["refreshToken"] === issued.refreshToken, "store holds the rotated refresh token").toBe(true)
        expect(oauth["scopes"]).toEqual([...issued.scopes])
        expect(inside.document.mcpOAuth).toEqual({})
        expect((yield* Effect.promise(() => fs.stat(store.location.file))).mode & 0o777).toBe(0o600)

        const status = yield* Fiber.join(claude)
        expect(status.exitCode, status.stderr).toBe(0)
        expect(sim.count("token")).toBe(1)
        expect(yield* leftovers(store)).toEqual(nothingLeft)
      }),
    60_000
  )
})
