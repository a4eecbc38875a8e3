import { NodeHttpClient } from "@effect/platform-node"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as Credential from "../src/Credential.js"
import * as OAuthClient from "../src/OAuthClient.js"
import * as OAuthConfig from "../src/OAuthConfig.js"
import * as RefreshCoordinator from "../src/RefreshCoordinator.js"
import { type ScriptedServer, startServer } from "./support/server.js"

let server: ScriptedServer
let issued = 0
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())
beforeEach(() => {
  server.reset()
  server.fallback(() => {
    issued++
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      delayMs: 50,
      body: JSON.stringify({
        access_token: `sk-ant-oat01-new-${issued}`,
        refresh_token: `sk-ant-ort01-new-${issued}`,
        expires_in: 28_800,
        scope: "user:inference user:profile"
      })
    }
  })
})

interface Tokens extends RefreshCoordinator.Tokens {}

const setup = (expiresAt: number) =>
  Effect.gen(function* () {
    const client = yield* OAuthClient.OAuthClient
    const store = yield* Ref.make<Tokens>({
      accessToken: Redacted.make("sk-ant-oat01-old"),
      refreshToken: Redacted.make("sk-ant-ort01-old"),
      expiresAt
    })
    const coordinator = yield* RefreshCoordinator.make({
      load: Ref.get(store),
      refresh: (current: Tokens) =>
        client.refresh({ refreshToken: current.refreshToken!, scopes: ["user:inference"] }).pipe(
          Effect.map((grant) => ({
            accessToken: grant.accessToken,
            refreshToken: grant.refreshToken ?? current.refreshToken,
            expiresAt: grant.expiresAt
          })),
          Effect.tap((next) => Ref.set(store, next))
        )
    })
    return { coordinator, store }
  })

// Provided around the whole test: the HTTP client's dispatcher lives as long as the layer.
const live = <A, E>(effect: Effect.Effect<A, E, OAuthClient.OAuthClient>) =>
  effect.pipe(
    Effect.provide(OAuthClient.layer),
    Effect.provide(OAuthConfig.layer({ oauthBaseUrl: server.url, apiBaseUrl: server.url })),
    Effect.provide(NodeHttpClient.layerUndici)
  )

describe("fresh: ensure's rule without an effect run", () => {
  it.live("held tokens good past the skew are fresh; expiring ones, and a store with no peek, are not", () =>
    live(
      Effect.gen(function* () {
        const tokens = (expiresAt: number): Tokens => ({
          accessToken: Redacted.make("sk-ant-oat01-held"),
          refreshToken: Redacted.make("sk-ant-ort01-held"),
          expiresAt
        })
        let held = tokens(Date.now() + 3_600_000)
        const peeking = yield* RefreshCoordinator.make({
          load: Effect.sync(() => held),
          peek: () => held,
          refresh: () => Effect.succeed(tokens(Date.now() + 7_200_000))
        })
        expect(peeking.fresh(Date.now())).toBe(held)
        expect((yield* peeking.ensure()).outcome).toBe("fresh")
        // Inside Claude Code's five-minute skew: ensure refreshes, so fresh must not answer.
        held = tokens(Date.now() + 60_000)
        expect(peeking.fresh(Date.now())).toBeNull()
        expect((yield* peeking.ensure()).outcome).toBe("refreshed")
        const { coordinator } = yield* setup(Date.now() + 3_600_000)
        expect(coordinator.fresh(Date.now())).toBeNull()
        expect(issued).toBe(0)
      })
    )
  )
})

describe("single-flight refresh", () => {
  it.live("100 concurrent callers with an expiring token → exactly one refresh request", () =>
    live(
      Effect.gen(function* () {
        const { coordinator } = yield* setup(Date.now() + 60_000)
        const results = yield* Effect.all(
          Array.from({ length: 100 }, () => coordinator.ensure()),
          { concurrency: "unbounded" }
        )
        expect(server.requests.filter((r) => r.path === "/v1/oauth/token")).toHaveLength(1)
        const tokens = new Set(results.map((r) => Redacted.value(r.tokens.accessToken)))
        expect(tokens.size).toBe(1)
        expect(results.filter((r) => r.outcome === "refreshed")).toHaveLength(1)
        expect(results.every((r) => r.outcome === "refreshed" || r.outcome === "joined")).toBe(true)
        const body = JSON.parse(server.requests[0]!.body)
        expect(body).toMatchObject({ grant_type: "refresh_token", refresh_token: "sk-ant-ort01-old" })
      })
    )
  )

  it.live("a fresh token makes no call; a 401 on a token already replaced makes no second call", () =>
    live(
      Effect.gen(function* () {
        const { coordinator } = yield* setup(Date.now() + 3_600_000)
        expect((yield* coordinator.ensure()).outcome).toBe("fresh")
        expect(server.requests).toHaveLength(0)
        const rejected = Redacted.make("sk-ant-oat01-old")
        const first = yield* Effect.all([coordinator.ensure({ rejected }), coordinator.ensure({ rejected })], {
          concurrency: "unbounded"
        })
        expect(server.requests).toHaveLength(1)
        expect(first.map((r) => r.outcome).sort()).toEqual(["joined", "refreshed"])
        expect((yield* coordinator.ensure({ rejected })).outcome).toBe("fresh")
        expect(server.requests).toHaveLength(1)
      })
    )
  )

  it.live("a failed refresh fails every waiting caller with the classification, and the next call tries again", () =>
    live(
      Effect.gen(function* () {
        const { coordinator } = yield* setup(Date.now() - 1)
        server.script({
          status: 400,
          headers: { "content-type": "application/json" },
          delayMs: 50,
          body: JSON.stringify({ error: "invalid_grant", error_description: "Refresh token not found or invalid" })
        })
        const failures = yield* Effect.all(
          Array.from({ length: 10 }, () => Effect.flip(coordinator.ensure())),
          { concurrency: "unbounded" }
        )
        expect(new Set(failures.map((f) => f._tag))).toEqual(new Set(["RefreshRejected"]))
        expect(server.requests).toHaveLength(1)
        expect((yield* coordinator.ensure()).outcome).toBe("refreshed")
        expect(server.requests).toHaveLength(2)
      })
    )
  )
})

describe("interrupting callers of a flight", () => {
  const setupCritical = (expiresAt: number) =>
    Effect.gen(function* () {
      const client = yield* OAuthClient.OAuthClient
      const store = yield* Ref.make<Tokens>({
        accessToken: Redacted.make("sk-ant-oat01-old"),
        refreshToken: Redacted.make("sk-ant-ort01-old"),
        expiresAt
      })
      const coordinator = yield* RefreshCoordinator.make({
        load: Ref.get(store),
        // Spend and persist as one section that an interruption waits for.
        refresh: (current: Tokens) =>
          RefreshCoordinator.toCompletion(
            client.refresh({ refreshToken: current.refreshToken!, scopes: null }).pipe(
              Effect.map((grant) => ({
                accessToken: grant.accessToken,
                refreshToken: grant.refreshToken,
                expiresAt: grant.expiresAt
              })),
              Effect.tap((next) => Ref.set(store, next))
            )
          )
      })
      return { coordinator, store }
    })

  it.live("the last caller interrupted mid-request waits until the spent token is persisted", () =>
    live(
      Effect.gen(function* () {
        const { coordinator, store } = yield* setupCritical(Date.now() - 1)
        const fiber = yield* Effect.fork(coordinator.ensure())
        // The server answers after 50 ms: interrupt while the request is in flight.
        yield* Effect.sleep(20)
        expect(server.requests).toHaveLength(1)
        yield* Fiber.interrupt(fiber)
        // By the time the interruption has returned, the new token is stored.
        expect(Redacted.value((yield* Ref.get(store)).refreshToken!)).toMatch(/^sk-ant-ort01-new-/)
      })
    )
  )

  it.live("one interrupted caller does not stop a flight another caller still waits on", () =>
    live(
      Effect.gen(function* () {
        const { coordinator } = yield* setupCritical(Date.now() - 1)
        const first = yield* Effect.fork(coordinator.ensure())
        const second = yield* Effect.fork(coordinator.ensure())
        yield* Effect.sleep(10)
        yield* Fiber.interrupt(first)
        const result = yield* Fiber.join(second)
        expect(Redacted.value(result.tokens.refreshToken!)).toMatch(/^sk-ant-ort01-new-/)
        expect(server.requests).toHaveLength(1)
      })
    )
  )

  // On TestClock the other process's lock is never released unless the test moves the clock, so an interruption
  // that waited for it would hang instead of returning.
  it.effect("a caller interrupted while another process holds the lock stops the flight: no request, ever", () =>
    live(
      Effect.gen(function* () {
        const client = yield* OAuthClient.OAuthClient
        const waiting = yield* Deferred.make<void>()
        const coordinator = yield* RefreshCoordinator.make<Tokens, unknown, never>({
          load: Effect.succeed({ accessToken: Redacted.make("a"), refreshToken: Redacted.make("r"), expiresAt: 0 }),
          // A lock another process holds for a minute.
          lock: (effect) =>
            Deferred.succeed(waiting, undefined).pipe(Effect.zipRight(Effect.sleep(60_000)), Effect.zipRight(effect)),
          refresh: (current) =>
            client.refresh({ refreshToken: current.refreshToken!, scopes: null }).pipe(
              Effect.map((g) => ({
                accessToken: g.accessToken,
                refreshToken: g.refreshToken,
                expiresAt: g.expiresAt
              }))
            )
        })
        const fiber = yield* Effect.fork(coordinator.ensure())
        yield* Deferred.await(waiting)
        yield* Fiber.interrupt(fiber)
        // The lock frees: a flight that outlived its last caller would send the refresh now.
        yield* TestClock.adjust(60_000)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
        expect(server.requests).toHaveLength(0)
      })
    )
  )
})

describe("the expiry skew, on TestClock", () => {
  const T0 = Date.UTC(2026, 11, 5, 9)

  it.effect("a token is fresh until it is within Claude Code's skew of expiry, then refreshed once", () =>
    live(
      Effect.gen(function* () {
        yield* TestClock.setTime(T0)
        const { coordinator, store } = yield* setup(T0 + Credential.CLAUDE_CODE_EXPIRY_SKEW_MS + 1_000)
        expect((yield* coordinator.ensure()).outcome).toBe("fresh")
        yield* TestClock.adjust(999)
        expect((yield* coordinator.ensure()).outcome).toBe("fresh")
        expect(server.requests).toHaveLength(0)
        yield* TestClock.adjust(1)
        expect((yield* coordinator.ensure()).outcome).toBe("refreshed")
        expect(server.requests).toHaveLength(1)
        // The grant's eight hours count from the clock the refresh ran on.
        expect((yield* Ref.get(store)).expiresAt).toBe(T0 + 1_000 + 28_800_000)
        expect((yield* coordinator.ensure()).outcome).toBe("fresh")
        expect(server.requests).toHaveLength(1)
      })
    )
  )
})

describe("rehearsing a refresh", () => {
  it.live("runs the answer's handling on a made-up answer and sends nothing", () =>
    live(
      Effect.gen(function* () {
        const client = yield* OAuthClient.OAuthClient
        yield* client.rehearseRefresh
        expect(server.requests).toHaveLength(0)
      })
    )
  )
})
