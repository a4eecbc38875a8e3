// The SDK judge: Anthropic's own TypeScript SDK (from npm), pointed at the
// gateway with the gateway key as its API key. Whatever the simulator does,
// the SDK must see what it would see against Anthropic: a message, a live
// stream, a token count, or its own typed error carrying core's message.
import Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "vitest"
import { start, type World } from "./support/world.js"

const within = async (options: Parameters<typeof start>[0], body: (world: World, sdk: Anthropic) => Promise<void>) => {
  const world = await start(options)
  // No retries: each case judges one answer (x-should-retry is checked on its own below).
  const sdk = new Anthropic({ baseURL: world.gateway.url, apiKey: world.key, maxRetries: 0 })
  try {
    await body(world, sdk)
  } finally {
    await world.close()
  }
}

const ask = { model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user" as const, content: "hi" }] }

/** core's message for the failure, as the gateway logged it when it answered. */
const coreMessage = (world: World): string => {
  const line = world.logs.find((l) => / answered \d{3} \w+: /.test(l))
  expect(line, "the gateway logged its answer").toBeDefined()
  return line!.replace(/^.* answered \d{3} \w+: /, "")
}

describe("@anthropic-ai/sdk against the gateway", () => {
  it("messages.create returns the simulator's message", async () => {
    await within({}, async (world, sdk) => {
      const message = await sdk.messages.create(ask)
      expect(message.type).toBe("message")
      expect(message.content[0]?.type).toBe("text")
      expect(world.sim.count("messages")).toBe(1)
    })
  })

  it("messages.stream: the first event arrives before the simulator has finished the stream", async () => {
    await within({}, async (world, sdk) => {
      world.sim.setStreamPace(150)
      const stream = sdk.messages.stream(ask)
      let firstAt: number | null = null
      const types: Array<string> = []
      for await (const event of stream) {
        firstAt ??= Date.now()
        types.push(event.type)
      }
      const final = await stream.finalMessage()
      expect(types[0]).toBe("message_start")
      expect(types).toContain("message_stop")
      expect(final.content[0]?.type).toBe("text")
      const finishedAt = world.sim.log.find((r) => r.route === "messages")?.finishedAt
      expect(finishedAt).toBeDefined()
      expect(firstAt!).toBeLessThan(finishedAt!)
    })
  })

  it("messages.countTokens", async () => {
    await within({}, async (_world, sdk) => {
      expect(await sdk.messages.countTokens({ model: ask.model, messages: ask.messages })).toEqual({ input_tokens: 12 })
    })
  })

  // The SDK's error class for each status, by name (its constructors' status types differ).
  const failures: ReadonlyArray<readonly [string, { readonly name: string; readonly prototype: object }, number]> = [
    ["subscription-cap-5h", Anthropic.RateLimitError, 429],
    ["org-policy-401", Anthropic.AuthenticationError, 401],
    ["revoked-401", Anthropic.AuthenticationError, 401],
    ["overloaded-529", Anthropic.OverloadedError, 529],
    ["claude-code-only-400", Anthropic.BadRequestError, 400],
    ["out-of-extra-usage-400", Anthropic.BadRequestError, 400]
  ]
  for (const [scenario, ErrorClass, status] of failures) {
    it(`${scenario}: the SDK's ${ErrorClass.name} (${status}) carrying core's message`, async () => {
      await within({ scenario }, async (world, sdk) => {
        const error = await sdk.messages.create(ask).then(
          () => null,
          (e: unknown) => e
        )
        expect(Object.getPrototypeOf(error) === ErrorClass.prototype, `${String(error)} is a ${ErrorClass.name}`).toBe(
          true
        )
        const apiError = error as InstanceType<typeof Anthropic.APIError>
        expect(apiError.status).toBe(status)
        const message = coreMessage(world)
        // The SDK's own field for Anthropic's error message, and its error's message, carry core's sentence.
        expect(apiError.apiMessage).toBe(message)
        expect(apiError.message).toContain(JSON.stringify(message))
      })
    })
  }

  it("the SDK's own retries follow the gateway's advice: a capped login is asked once, a short throttle again after its wait", async () => {
    await within({ scenario: "subscription-cap-5h" }, async (world) => {
      const retrying = new Anthropic({ baseURL: world.gateway.url, apiKey: world.key, maxRetries: 2 })
      await expect(retrying.messages.create(ask)).rejects.toBeInstanceOf(Anthropic.RateLimitError)
      expect(world.sim.count("messages")).toBe(1)
    })
    await within({ gateway: { retryAfterCapMs: 0 } }, async (world) => {
      world.sim.script("messages", {
        status: 429,
        headers: {
          "content-type": "application/json",
          "retry-after": "1",
          "anthropic-ratelimit-requests-remaining": "0"
        },
        body: JSON.stringify({
          type: "error",
          error: { type: "rate_limit_error", message: "Rate limited. Please try again later." }
        })
      })
      const retrying = new Anthropic({ baseURL: world.gateway.url, apiKey: world.key, maxRetries: 2 })
      const message = await retrying.messages.create(ask)
      expect(message.type).toBe("message")
      expect(world.sim.count("messages")).toBe(2)
    })
  })
})
