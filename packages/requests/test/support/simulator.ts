/**
 * The setup the AccountStore and AuthorizedFetch test files share: a
 * simulator and throwaway directories removed after each test, the OAuth
 * login the simulator issued, its error envelopes and cap answers, and a
 * messages request to it. Not a test file (vitest collects `*.test.ts` only);
 * call `cleanUpAfterEach` at the top level of each test file that uses it.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Simulator from "@tollgate/conformance/Simulator"
import { afterEach } from "vitest"
import type * as AuthorizedFetch from "../../src/AuthorizedFetch.js"

const cleanups: Array<() => Promise<void>> = []

/** Closes the simulators and removes the directories a test made, newest first. */
export const cleanUpAfterEach = (): void =>
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

/** A throwaway directory under the OS temp dir, removed after the test. */
export const tempDir = async (prefix = "tollgate-accounts-"): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  // Retried: a fire-and-forget state update may still be renaming into the directory as the test ends (ENOTEMPTY).
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }))
  return dir
}

/** A simulator (optionally playing `scenario`), closed after the test. */
export const start = async (scenario?: string): Promise<Simulator.Simulator> => {
  const sim = await Simulator.start({ ttlMs: 120_000, ...(scenario ? { scenario } : {}) })
  cleanups.push(() => sim.close())
  return sim
}

/** The OAuth login for tokens the simulator issued. */
export const oauth = (issued: Simulator.Issued): AuthorizedFetch.OAuthLogin => ({
  type: "oauth",
  access: issued.accessToken,
  refresh: issued.refreshToken,
  expires: issued.expiresAt
})

/** An Anthropic error body. */
export const envelope = (type: string, message: string): string =>
  JSON.stringify({ type: "error", error: { type, message } })

/** A subscription cap on the five-hour window that resets `resetInS` seconds from now. */
export const cap = (resetInS: number) => ({
  status: 429,
  headers: {
    "content-type": "application/json",
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-reset": String(Math.floor(Date.now() / 1000) + resetInS)
  },
  body: envelope("rate_limit_error", "This request would exceed your account's rate limit. Please try again later.")
})

const messagesBody = JSON.stringify({
  model: "claude-sonnet-4-5",
  max_tokens: 16,
  messages: [{ role: "user", content: "hi" }]
})

/** A minimal messages request through `fetch`. */
export const send = (fetch: AuthorizedFetch.AuthorizedFetch, sim: Simulator.Simulator): Promise<Response> =>
  fetch(`${sim.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: messagesBody
  })

/**
 * A messages request with an empty `x-api-key` (the fetch drops it) and an
 * `anthropic-beta` list (the fetch merges its OAuth beta in).
 */
export const sendWithBeta = (
  fetch: AuthorizedFetch.AuthorizedFetch,
  sim: Simulator.Simulator,
  beta = "fine-grained-tool-streaming-2025-05-14"
): Promise<Response> =>
  fetch(`${sim.url}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "",
      "anthropic-version": "2023-06-01",
      "anthropic-beta": beta
    },
    body: messagesBody
  })

/** The last messages request the simulator recorded. */
export const lastMessage = (sim: Simulator.Simulator): Simulator.RecordedRequest =>
  sim.log.filter((r) => r.route === "messages").at(-1)!
