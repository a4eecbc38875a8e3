// What the no-leak tests share. Each flow's output is collected — every Effect log line at every
// level, every error's message, String() and JSON, every Cause, every child's output, every file
// left besides the store — and none may hold a token in any form: whole, its random body (or the
// head or tail of it), hex, base64.
import { Buffer } from "node:buffer"
import { readdir, readFile, writeFile } from "node:fs/promises"
import { join, relative } from "node:path"
import { inspect } from "node:util"
import { NodeHttpClient } from "@effect/platform-node"
import { makeTempHome, type TempHome } from "@tollgate/conformance/ClaudeCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import { Backoff, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { afterAll, expect } from "vitest"
import * as ClaudeCredentials from "../../src/ClaudeCredentials.js"
import type * as Refresher from "../../src/Refresher.js"
import * as StoreLocation from "../../src/StoreLocation.js"

// ---------------------------------------------------------------------------
// What counts as a leak

export const hex = (s: string) => Buffer.from(s, "utf8").toString("hex")

/** Every form of a token that must never appear, labelled without quoting it. */
export const formsOf = (token: string): ReadonlyArray<readonly [string, string]> => {
  const body = token.replace(/^sk-ant-[a-z]{3}\d\d-(?:sim-)?/, "")
  return [
    ["token", token],
    ["body", body],
    ["body head", body.slice(0, 12)],
    ["body tail", body.slice(-12)],
    ["hex", hex(token)],
    ["HEX", hex(token).toUpperCase()],
    ["hex of body", hex(body)],
    ["base64", Buffer.from(token).toString("base64")],
    ["base64url", Buffer.from(token).toString("base64url")]
  ]
}

export interface Seen {
  readonly where: string
  readonly text: string
}

/** `where: form of token#i` for every leak; never the token itself. */
export const leaksIn = (seen: ReadonlyArray<Seen>, tokens: ReadonlyArray<string>): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const [i, token] of tokens.entries()) {
    for (const [form, value] of formsOf(token)) {
      for (const s of seen) if (s.text.includes(value)) found.push(`${s.where}: ${form} of token #${i}`)
    }
  }
  return found
}

/** Collects what a test saw and the tokens it used; `verify` asserts nothing leaked. */
export const collector = () => {
  const seen: Array<Seen> = []
  const tokens = new Set<string>()
  return {
    seen,
    see: (where: string, text: string) => void seen.push({ where, text }),
    token: (...ts: ReadonlyArray<string | null | undefined>) => {
      for (const t of ts) if (t) tokens.add(t)
    },
    verify: () => {
      expect(tokens.size, "the test used tokens").toBeGreaterThan(0)
      expect(seen.length, "the test saw output").toBeGreaterThan(0)
      expect(leaksIn(seen, [...tokens])).toEqual([])
    }
  }
}
export type Collector = ReturnType<typeof collector>

// ---------------------------------------------------------------------------
// Fixtures

/** Temp homes and simulators for one test file, closed after its last test. */
export const fixtures = () => {
  const homes: Array<TempHome> = []
  const sims: Array<Simulator.Simulator> = []
  afterAll(async () => {
    for (const sim of sims.splice(0)) await sim.close()
    for (const home of homes.splice(0)) await home.cleanup()
  })
  return {
    newHome: async () => {
      const home = await makeTempHome("tollgate-secrets-home-")
      homes.push(home)
      return home
    },
    newSim: async (scenario: string, c: Collector) => {
      const sim = await Simulator.start({ scenario, ttlMs: 120_000 })
      sims.push(sim)
      c.token(sim.account.accessToken, sim.account.refreshToken, sim.current().accessToken, sim.current().refreshToken)
      return sim
    }
  }
}

/** A complete login, already expired so every flow goes to the token endpoint. */
export const loginDocument = (access: string, refresh: string | null) => ({
  claudeAiOauth: {
    accessToken: access,
    refreshToken: refresh,
    expiresAt: Date.now() - 60_000,
    scopes: ["user:inference", "user:profile", "user:sessions:claude_code"],
    subscriptionType: "max",
    rateLimitTier: "default_claude_max_20x"
  },
  mcpOAuth: { "linear|1": { serverName: "linear", accessToken: "mcp-not-ours", expiresAt: 1 } }
})

export const writeStore = async (home: TempHome, document: unknown) => {
  const file = join(home.claudeDir, ".credentials.json")
  await writeFile(file, typeof document === "string" ? document : JSON.stringify(document), { mode: 0o600 })
  return file
}

export const locationOf = (home: TempHome) => StoreLocation.resolve({ HOME: home.home, USER: "tollgate-test" })

/** Files a flow must never write a token into: everything in the home except the stores themselves. */
export const scanFiles = async (c: Collector, home: TempHome, ignore: ReadonlyArray<RegExp> = []) => {
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name)
      const rel = relative(home.home, full)
      if (entry.isDirectory()) await walk(full)
      else if (
        entry.isFile() &&
        !/(^|\/)\.credentials\.json($|\.[0-9a-f]{16}\.tmp$)/.test(rel) &&
        !ignore.some((r) => r.test(rel))
      ) {
        c.see(`file ${rel}`, await readFile(full, "latin1"))
      }
    }
  }
  await walk(home.home)
}

// ---------------------------------------------------------------------------
// The library in-process, with a logger that records every line

const recordingLogger = (lines: Array<string>) =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message, cause, annotations, spans }) => {
        lines.push(
          [
            logLevel.label,
            inspect(message, { depth: 20 }),
            Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true }),
            inspect([...annotations], { depth: 20 }),
            inspect([...spans], { depth: 5 })
          ].join(" ")
        )
      })
    ),
    Logger.minimumLogLevel(LogLevel.All)
  )

/** Runs one refresh through the library, recording its logs, its result and its error in every form. */
export const library = async (
  c: Collector,
  label: string,
  sim: Simulator.Simulator,
  location: StoreLocation.Location,
  options: ClaudeCredentials.Options = { platform: "linux" }
): Promise<Exit.Exit<Refresher.Outcome, unknown>> => {
  const lines: Array<string> = []
  const exit = await Effect.runPromiseExit(
    ClaudeCredentials.open(location, { lock: { waitMs: 5_000 }, ...options }).pipe(
      Effect.flatMap((opened) => opened.refresher.refresh({ ifNeeded: true })),
      Effect.tapErrorCause((cause) => Effect.logError("refresh failed", cause)),
      Effect.provide(Layer.effect(Backoff.Backoff, Backoff.make())),
      Effect.provide(
        OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: sim.url, oauthBaseUrl: sim.url })))
      ),
      Effect.provide(NodeHttpClient.layerUndici),
      Effect.provide(recordingLogger(lines))
    )
  )
  c.see(`${label}: logs`, lines.join("\n"))
  c.see(`${label}: exit`, `${String(exit)}\n${inspect(exit, { depth: 20 })}\n${JSON.stringify(exit)}`)
  if (Exit.isFailure(exit)) {
    c.see(`${label}: cause`, Cause.pretty(exit.cause, { renderErrorCause: true }))
    const error = Cause.failureOption(exit.cause)
    if (Option.isSome(error)) {
      const e = error.value as { message?: unknown }
      c.see(
        `${label}: error`,
        [String(e.message), String(error.value), JSON.stringify(error.value), inspect(error.value, { depth: 20 })].join(
          "\n"
        )
      )
    }
  }
  c.token(sim.current().accessToken, sim.current().refreshToken)
  return exit
}

export const tagOf = (exit: Exit.Exit<Refresher.Outcome, unknown>): string =>
  Exit.isSuccess(exit)
    ? exit.value._tag
    : Option.match(Cause.failureOption(exit.cause), {
        onNone: () => "defect",
        onSome: (e) => (typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : "unknown")
      })
