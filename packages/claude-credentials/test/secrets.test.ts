// No secret leaks: representative flows — the library refreshing (success,
// 429, invalid_grant, a token rotated elsewhere), a malformed store, a
// symlinked store, the Keychain backend through the fake `security`, the
// harness and the `tollgate refresh` / `tollgate doctor` CLI as processes —
// and everything they say is collected: every Effect log line at every level,
// every error's message, String() and JSON, every Cause, every child's stdout
// and stderr, every child's /proc/<pid>/cmdline and environ, every file they
// leave besides the store itself. None may hold a token in any form: whole,
// its random body (or the head or tail of it), hex, base64.
import { Buffer } from "node:buffer"
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
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
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as ClaudeCredentials from "../src/ClaudeCredentials.js"
import type * as Refresher from "../src/Refresher.js"
import * as StoreLocation from "../src/StoreLocation.js"
import { bundleCli, type Child, makeWorkspace, spawnNode, type Workspace } from "./harness/bundle.js"

const FAKE_SECURITY = fileURLToPath(new URL("./fixtures/security", import.meta.url))

// ---------------------------------------------------------------------------
// What counts as a leak

const hex = (s: string) => Buffer.from(s, "utf8").toString("hex")

/** Every form of a token that must never appear, labelled without quoting it. */
const formsOf = (token: string): ReadonlyArray<readonly [string, string]> => {
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

interface Seen {
  readonly where: string
  readonly text: string
}

/** `where: form of token#i` for every leak; never the token itself. */
const leaksIn = (seen: ReadonlyArray<Seen>, tokens: ReadonlyArray<string>): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const [i, token] of tokens.entries()) {
    for (const [form, value] of formsOf(token)) {
      for (const s of seen) if (s.text.includes(value)) found.push(`${s.where}: ${form} of token #${i}`)
    }
  }
  return found
}

/** Collects what a test saw and the tokens it used; `verify` asserts nothing leaked. */
const collector = () => {
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
type Collector = ReturnType<typeof collector>

// ---------------------------------------------------------------------------
// Fixtures

let workspace: Workspace
let cli: string
const homes: Array<TempHome> = []
const sims: Array<Simulator.Simulator> = []

beforeAll(async () => {
  workspace = await makeWorkspace("tollgate-secrets-")
  cli = await bundleCli(join(workspace.dir, "cli"))
})

afterAll(async () => {
  for (const sim of sims.splice(0)) await sim.close()
  for (const home of homes.splice(0)) await home.cleanup()
  await workspace?.cleanup()
})

const newHome = async () => {
  const home = await makeTempHome("tollgate-secrets-home-")
  homes.push(home)
  return home
}

const newSim = async (scenario: string, c: Collector) => {
  const sim = await Simulator.start({ scenario, ttlMs: 120_000 })
  sims.push(sim)
  c.token(sim.account.accessToken, sim.account.refreshToken, sim.current().accessToken, sim.current().refreshToken)
  return sim
}

/** A complete login, already expired so every flow goes to the token endpoint. */
const loginDocument = (access: string, refresh: string | null) => ({
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

const writeStore = async (home: TempHome, document: unknown) => {
  const file = join(home.claudeDir, ".credentials.json")
  await writeFile(file, typeof document === "string" ? document : JSON.stringify(document), { mode: 0o600 })
  return file
}

const locationOf = (home: TempHome) => StoreLocation.resolve({ HOME: home.home, USER: "tollgate-test" })

/** Files a flow must never write a token into: everything in the home except the stores themselves. */
const scanFiles = async (c: Collector, home: TempHome, ignore: ReadonlyArray<RegExp> = []) => {
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
const library = async (
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

const tagOf = (exit: Exit.Exit<Refresher.Outcome, unknown>): string =>
  Exit.isSuccess(exit)
    ? exit.value._tag
    : Option.match(Cause.failureOption(exit.cause), {
        onNone: () => "defect",
        onSome: (e) => (typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : "unknown")
      })

// ---------------------------------------------------------------------------
// Processes: stdout, stderr, cmdline and environ of each

const observe = async (c: Collector, label: string, child: Child) => {
  const cmdline = await child.cmdline
  const environ = await readFile(`/proc/${child.pid}/environ`, "latin1").catch(() => "")
  const ended = await child.ended
  // Read while it ran: an empty one would mean nothing was looked at.
  expect(cmdline, label).toMatch(/\.mjs /)
  c.see(`${label}: cmdline`, cmdline)
  c.see(`${label}: environ`, environ)
  c.see(`${label}: stdout`, ended.stdout)
  c.see(`${label}: stderr`, ended.stderr)
  return ended
}

const tollgate = (c: Collector, home: TempHome, sim: Simulator.Simulator | null, args: ReadonlyArray<string>) =>
  observe(
    c,
    `tollgate ${args.join(" ")}`,
    spawnNode(cli, args, { ...home.env, NO_COLOR: "1", ...(sim ? sim.env : {}) }, { timeoutMs: 30_000 })
  )

/** A `security` for this home: the fake, with its store and log beside the home, and `env` on top. */
const fakeSecurity = async (home: TempHome, name: string, env: Record<string, string> = {}) => {
  const dir = join(home.home, "bin", name)
  await mkdir(dir, { recursive: true })
  const vars = {
    FAKE_SECURITY_STORE: join(home.home, "keychain.json"),
    FAKE_SECURITY_LOG: join(home.home, "security.log"),
    FAKE_SECURITY_NODE: process.execPath,
    ...env
  }
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`
  const file = join(dir, "security")
  await writeFile(
    file,
    [
      "#!/bin/sh",
      ...Object.entries(vars).map(([k, v]) => `export ${k}=${q(v)}`),
      `exec ${q(FAKE_SECURITY)} "$@"`,
      ""
    ].join("\n")
  )
  await chmod(file, 0o755)
  return file
}

/** What each fake `security` run recorded about its own command line (the stdin lines carry hex by design). */
const securityStarts = async (c: Collector, home: TempHome, label: string) => {
  const text = await readFile(join(home.home, "security.log"), "utf8").catch(() => "")
  const starts = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { event: string; argv?: unknown; cmdline?: unknown })
    .filter((e) => e.event === "start")
  for (const [i, s] of starts.entries())
    c.see(`${label}: security run ${i} argv+cmdline`, JSON.stringify([s.argv, s.cmdline]))
  return starts.length
}

// ---------------------------------------------------------------------------

describe("no token leaks from any flow", () => {
  it("the leak check finds a token in any of its forms (positive control)", () => {
    const token = "sk-ant-oat01-sim-AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    for (const [form, value] of formsOf(token)) {
      expect(leaksIn([{ where: "x", text: `before ${value} after` }], [token]).length, form).toBeGreaterThan(0)
    }
    expect(leaksIn([{ where: "x", text: "fp_0123456789abcdef sk-ant-oat01-… (redacted)" }], [token])).toEqual([])
  })

  it("the library: refresh success, 429, invalid_grant, rotated elsewhere (dead and adopted)", async () => {
    const c = collector()

    const okSim = await newSim("expired-access-token", c)
    const okHome = await newHome()
    await writeStore(okHome, loginDocument(okSim.account.accessToken, okSim.account.refreshToken))
    expect(tagOf(await library(c, "success", okSim, locationOf(okHome)))).toBe("Refreshed")
    await scanFiles(c, okHome)

    const limited = await newSim("refresh-429", c)
    const limitedHome = await newHome()
    await writeStore(limitedHome, loginDocument(limited.account.accessToken, limited.account.refreshToken))
    expect(tagOf(await library(c, "429", limited, locationOf(limitedHome)))).toBe("RateLimited")
    await scanFiles(c, limitedHome)

    const invalid = await newSim("refresh-invalid-grant", c)
    const invalidHome = await newHome()
    await writeStore(invalidHome, loginDocument(invalid.account.accessToken, invalid.account.refreshToken))
    expect(tagOf(await library(c, "invalid_grant", invalid, locationOf(invalidHome)))).toBe("LoginDead")

    const rotated = await newSim("rotated-by-another-process", c)
    const rotatedHome = await newHome()
    await writeStore(rotatedHome, loginDocument(rotated.account.accessToken, rotated.account.refreshToken))
    expect(tagOf(await library(c, "rotated, store stale", rotated, locationOf(rotatedHome)))).toBe("LoginDead")

    // Rotated elsewhere while our request was in flight: the other process writes the store
    // (without the lock), the endpoint says invalid_grant, and the re-read adopts its tokens.
    const raced = await newSim("expired-access-token", c)
    const racedHome = await newHome()
    const racedFile = await writeStore(racedHome, loginDocument(raced.account.accessToken, raced.account.refreshToken))
    raced.script("token", {
      status: 400,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error: "invalid_grant", error_description: "Refresh token not found or invalid" }),
      delayMs: 400
    })
    const elsewhere = raced.rotateElsewhere()
    c.token(elsewhere?.accessToken, elsewhere?.refreshToken)
    const pending = library(c, "rotated meanwhile", raced, locationOf(racedHome))
    while (raced.count("token") === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const doc = loginDocument(elsewhere?.accessToken ?? "", elsewhere?.refreshToken ?? null)
    await writeFile(
      racedFile,
      JSON.stringify({ ...doc, claudeAiOauth: { ...doc.claudeAiOauth, expiresAt: Date.now() + 3_600_000 } })
    )
    expect(tagOf(await pending)).toBe("Adopted")

    c.verify()
  })

  it("a malformed store and a symlinked store", async () => {
    const c = collector()
    const sim = await newSim("expired-access-token", c)
    const secretish = "sk-ant-oat01-sim-MalformedStoreTokenAbcdefghijklmn"
    const secretRefresh = "sk-ant-ort01-sim-MalformedStoreRefreshAbcdefghijkl"
    c.token(secretish, secretRefresh)

    const broken = await newHome()
    await writeStore(broken, `{"claudeAiOauth":{"accessToken":"${secretish}","refreshToken":"${secretRefresh}",`)
    expect(tagOf(await library(c, "not json", sim, locationOf(broken)))).toBe("StoreError")
    await writeStore(
      broken,
      JSON.stringify({ claudeAiOauth: { accessToken: 42, refreshToken: secretRefresh, note: secretish } })
    )
    expect(tagOf(await library(c, "malformed login", sim, locationOf(broken)))).toBe("StoreError")
    await writeStore(broken, JSON.stringify([secretish, secretRefresh]))
    expect(tagOf(await library(c, "not an object", sim, locationOf(broken)))).toBe("StoreError")

    const linked = await newHome()
    const target = join(linked.home, "elsewhere.json")
    await writeFile(target, JSON.stringify(loginDocument(sim.account.accessToken, sim.account.refreshToken)), {
      mode: 0o600
    })
    await symlink(target, join(linked.claudeDir, ".credentials.json"))
    expect(tagOf(await library(c, "symlink refused", sim, locationOf(linked)))).toBe("StoreError")
    expect(
      tagOf(await library(c, "symlink followed", sim, locationOf(linked), { platform: "linux", followSymlinks: true }))
    ).toBe("Refreshed")
    await scanFiles(c, linked, [/^elsewhere\.json$/])

    c.verify()
  })

  it("the Keychain backend through the fake security: success, and a failing add that echoes the secret", async () => {
    const c = collector()
    const sim = await newSim("expired-access-token", c)
    const home = await newHome()
    const location = locationOf(home)
    const working = await fakeSecurity(home, "working")
    const document = loginDocument(sim.account.accessToken, sim.account.refreshToken)
    await writeFile(
      join(home.home, "keychain.json"),
      JSON.stringify({
        items: [
          { service: location.keychainService, account: location.keychainAccount, hex: hex(JSON.stringify(document)) }
        ]
      })
    )
    expect(
      tagOf(await library(c, "keychain success", sim, location, { platform: "darwin", securityPath: working }))
    ).toBe("Refreshed")
    const stored = JSON.parse(await readFile(join(home.home, "keychain.json"), "utf8")) as {
      items: Array<{ hex: string }>
    }
    expect(Buffer.from(stored.items[0]?.hex ?? "", "hex").toString("utf8")).toContain(sim.current().accessToken)

    // The fake prints the document it was asked to store on stdout and stderr: a caller that
    // quotes the tool's output in its error would be caught here.
    const expired = loginDocument(sim.current().accessToken, sim.current().refreshToken)
    await writeFile(
      join(home.home, "keychain.json"),
      JSON.stringify({
        items: [
          { service: location.keychainService, account: location.keychainAccount, hex: hex(JSON.stringify(expired)) }
        ]
      })
    )
    const failing = await fakeSecurity(home, "failing", { FAKE_SECURITY_FAIL: "add" })
    expect(
      tagOf(await library(c, "keychain add fails", sim, location, { platform: "darwin", securityPath: failing }))
    ).toBe("RefreshNotPersisted")
    expect(await securityStarts(c, home, "keychain")).toBeGreaterThanOrEqual(4)
    await scanFiles(c, home, [/^keychain\.json$/, /^security\.log$/])

    c.verify()
  })

  it("the harness as a process: refresh success and a 429", async () => {
    const c = collector()
    for (const scenario of ["expired-access-token", "refresh-429"]) {
      const sim = await newSim(scenario, c)
      const home = await newHome()
      await writeStore(home, loginDocument(sim.account.accessToken, sim.account.refreshToken))
      const ended = await observe(
        c,
        `harness ${scenario}`,
        spawnNode(workspace.harness, ["refresh", sim.url, "-"], home.env)
      )
      expect(ended.code, ended.stderr).toBe(scenario === "refresh-429" ? 1 : 0)
      c.token(sim.current().accessToken, sim.current().refreshToken)
      await scanFiles(c, home)
    }
    c.verify()
  })

  it("the CLI: tollgate refresh (success, 429, backed off, invalid_grant, malformed) and tollgate doctor", async () => {
    const c = collector()

    const sim = await newSim("expired-access-token", c)
    const home = await newHome()
    await writeStore(home, loginDocument(sim.account.accessToken, sim.account.refreshToken))
    const refreshed = await tollgate(c, home, sim, ["refresh", "--json"])
    expect(refreshed.code, refreshed.stderr).toBe(0)
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ outcome: "Refreshed" })
    c.token(sim.current().accessToken, sim.current().refreshToken)
    expect((await tollgate(c, home, sim, ["refresh"])).code).toBe(0)
    expect((await tollgate(c, home, null, ["doctor"])).code).toBe(0)
    expect((await tollgate(c, home, null, ["doctor", "--json"])).code).toBe(0)
    await scanFiles(c, home)

    const limited = await newSim("refresh-429", c)
    const limitedHome = await newHome()
    await writeStore(limitedHome, loginDocument(limited.account.accessToken, limited.account.refreshToken))
    expect((await tollgate(c, limitedHome, limited, ["refresh"])).code).toBe(1)
    // The second run finds the backoff the first one saved.
    const backedOff = await tollgate(c, limitedHome, limited, ["refresh", "--json"])
    expect(JSON.parse(backedOff.stdout)).toMatchObject({ error: "RefreshBackedOff" })
    expect((await tollgate(c, limitedHome, null, ["doctor", "--json"])).code).toBe(0)
    await scanFiles(c, limitedHome)

    const invalid = await newSim("refresh-invalid-grant", c)
    const invalidHome = await newHome()
    await writeStore(invalidHome, loginDocument(invalid.account.accessToken, invalid.account.refreshToken))
    const dead = await tollgate(c, invalidHome, invalid, ["refresh", "--json"])
    expect(JSON.parse(dead.stdout)).toMatchObject({ error: "LoginDead" })
    expect((await tollgate(c, invalidHome, null, ["doctor"])).code).toBe(0)
    await scanFiles(c, invalidHome)

    const brokenHome = await newHome()
    const secretish = "sk-ant-oat01-sim-CliMalformedTokenAbcdefghijklmnopq"
    c.token(secretish)
    await writeStore(brokenHome, `{"claudeAiOauth":{"accessToken":"${secretish}"`)
    expect((await tollgate(c, brokenHome, sim, ["refresh"])).code).toBe(1)
    expect((await tollgate(c, brokenHome, null, ["doctor", "--json"])).code).toBe(0)
    await scanFiles(c, brokenHome)
    expect((await stat(join(brokenHome.claudeDir, ".credentials.json"))).size).toBeGreaterThan(0)

    c.verify()
  }, 60_000)
})
