// The request path judged by the real opencode 1.18: what the user sees, how
// fast, and whether anything is retried, offline against the simulator.
import { spawn } from "node:child_process"
import { anthropicOAuth, type OpenCodeHome, stripAnsi } from "@tollgate/conformance/OpenCode"
import type * as Simulator from "@tollgate/conformance/Simulator"
import { describe, expect, it } from "vitest"
import { binary, expectBinaryInstalled, inOwnGroup, realOpencode, REPLY, runOpencode } from "./support/realOpencode.js"

const RUN_TIMEOUT = 120_000
// The bound: a verdict no retry can fix reaches the user within 2 s of the upstream answer.
const ANSWER_BOUND_MS = 2_000

const oc = realOpencode("tollgate-request-path-")
const envelope = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message } })

const messages = (sim: Simulator.Simulator) => sim.log.filter((r) => r.route === "messages")

// `opencode run`, noting when `seen` first shows in its output and when it exits.
const runWatching = (home: OpenCodeHome, seen: RegExp) =>
  new Promise<{ text: string; seenAt: number | null; exitedAt: number; exitCode: number | null }>((resolve, reject) => {
    const child = spawn(binary!, ["run", "--title", "t", "hi"], inOwnGroup(home, ["ignore", "pipe", "pipe"]))
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), RUN_TIMEOUT)
    let out = ""
    let seenAt: number | null = null
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8")
      if (seenAt === null && seen.test(stripAnsi(out))) seenAt = Date.now()
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("error", reject)
    child.once("close", (exitCode) => {
      clearTimeout(timer)
      resolve({ text: stripAnsi(out), seenAt, exitedAt: Date.now(), exitCode })
    })
  })

describe("the request path under the real opencode (offline)", () => {
  it("the real opencode binary is installed", expectBinaryInstalled)

  it(
    "a subscription cap on the only account: core's message within 2 s of the capped answer, no retry upstream or local",
    async () => {
      const sim = await oc.startSim()
      sim.script("messages", {
        status: 429,
        headers: {
          "content-type": "application/json",
          "anthropic-ratelimit-unified-status": "rejected",
          "anthropic-ratelimit-unified-representative-claim": "five_hour",
          "anthropic-ratelimit-unified-reset": String(Math.floor(Date.now() / 1000) + 7200)
        },
        body: envelope(
          "rate_limit_error",
          "This request would exceed your account's rate limit. Please try again later."
        ),
        times: "always"
      })
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(sim.account) })
      const message = /The subscription's five_hour limit is reached; it resets at \d{4}-\d\d-\d\dT/

      const result = await runWatching(home, message)

      expect(result.text, await home.readLogs()).toMatch(message)
      // One upstream call for the prompt: opencode did not send it again.
      expect(messages(sim)).toHaveLength(1)
      // opencode's first retry comes 2 s or more after a failure (SessionRetry: 2000 ms × (1 + jitter)), and it prints
      // the error only once it gives up, so the message within 2 s of the capped answer also means no retry answered
      // locally by the plugin (the previous request path: 1 upstream call, 5 local retries, the message after ~75 s).
      const answeredAt = messages(sim)[0]!.at
      console.info(
        `cap: message ${result.seenAt === null ? "never" : result.seenAt - answeredAt} ms after the capped answer, exit ${
          result.exitedAt - answeredAt
        } ms after`
      )
      expect(result.seenAt).not.toBeNull()
      expect(result.seenAt! - answeredAt).toBeLessThanOrEqual(ANSWER_BOUND_MS)
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "an org-policy 401 on every call spends no token refresh and says why",
    async () => {
      const sim = await oc.startSim()
      sim.script("messages", {
        status: 401,
        headers: { "content-type": "application/json" },
        body: envelope("authentication_error", "OAuth authentication is currently not allowed for this organization."),
        times: "always"
      })
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(sim.account) })

      const result = await runWatching(home, /This organization does not allow OAuth logins/)

      expect(result.text, await home.readLogs()).toContain("This organization does not allow OAuth logins")
      expect(sim.count("token")).toBe(0)
      expect(messages(sim)).toHaveLength(1)
      expect(result.seenAt).not.toBeNull()
      expect(result.seenAt! - messages(sim)[0]!.at).toBeLessThanOrEqual(ANSWER_BOUND_MS)
    },
    RUN_TIMEOUT + 15_000
  )

  it(
    "a 429 with a short Retry-After: the plugin waits once and resends once, and the user gets the answer",
    async () => {
      const sim = await oc.startSim()
      sim.script("messages", {
        status: 429,
        headers: { "content-type": "application/json", "retry-after": "1" },
        body: envelope("rate_limit_error", "Number of requests has exceeded your per-minute rate limit.")
      })
      const home = await oc.makeSimHome(sim, { plugin: oc.plugin, auth: anthropicOAuth(sim.account) })

      const result = await runOpencode(home, RUN_TIMEOUT)

      expect(result.exitCode, `${result.text}\n${await home.readLogs()}`).toBe(0)
      expect(result.stdout).toContain(REPLY)
      const [limited, resent, ...rest] = messages(sim)
      expect(rest).toEqual([])
      expect(limited?.outcome).toBe(429)
      expect(resent?.outcome).toBe(200)
      // The wait the verdict asked for (1 s), not opencode's retry (2 s or more).
      const gap = resent!.at - limited!.at
      console.info(`throttle: resent ${gap} ms after the 429`)
      expect(gap).toBeGreaterThanOrEqual(900)
      expect(gap).toBeLessThan(2_000)
    },
    RUN_TIMEOUT + 15_000
  )
})
