import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { runCase, settingsFor } from "./support/client.js"
import { corpus, NOW } from "./support/corpus.js"
import { type ScriptedServer, startServer } from "./support/server.js"

let server: ScriptedServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const transport = (name: string) => name.startsWith("transport:")

describe("corpus: every recorded response classifies as the reference says", () => {
  for (const c of corpus.filter((c) => !transport(c.name))) {
    it.effect(`${c.endpoint}: ${c.name} → ${c.expect.tag}`, () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        server.reset()
        server.script(c.reply)
        const verdict = yield* runCase(c, settingsFor(server.url))
        expect({ tag: verdict._tag, ...pick(verdict, c.expect) }).toEqual({ ...c.expect })
        expect(verdict.endpoint).toBe(c.endpoint)
        expect(server.requests.length).toBe(c.calls ?? 1)
        expect(verdict.message).not.toMatch(/sk-ant-/)
      })
    )
  }

  // Faults need the real clock: the request deadline is what ends them.
  for (const c of corpus.filter((c) => transport(c.name))) {
    it.live(`${c.endpoint}: ${c.name} → ${c.expect.tag} within the deadline`, () =>
      Effect.gen(function* () {
        server.reset()
        server.script(c.reply)
        const started = Date.now()
        const verdict = yield* runCase(c, settingsFor(server.url, { timeoutMs: 400 }))
        expect({ tag: verdict._tag, ...pick(verdict, c.expect) }).toEqual({ ...c.expect })
        expect(Date.now() - started).toBeLessThan(5_000)
      })
    )
  }

  it.live("transport: connection refused → Transport connect", () =>
    Effect.gen(function* () {
      const closed = yield* Effect.promise(() => startServer())
      yield* Effect.promise(() => closed.close())
      const verdict = yield* runCase(
        { name: "refused", endpoint: "usage", reply: { status: 200 }, expect: { tag: "Transport" } },
        settingsFor(closed.url, { timeoutMs: 2_000 })
      )
      expect(verdict._tag).toBe("Transport")
      expect((verdict as { reason?: string }).reason).toBe("connect")
    })
  )
})

const pick = (verdict: object, expected: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.keys(expected)
      .filter((k) => k !== "tag")
      .map((k) => [k, (verdict as Record<string, unknown>)[k]])
  )
