import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as C from "../Classification.js"
import { type CredentialFacts, classify } from "../Classify.js"
import type { Endpoint } from "../Endpoint.js"
import type { Settings } from "../OAuthConfig.js"
import { reasonOf } from "./transport.js"

/** One request and what came back, already classified. */
export interface Exchange {
  readonly status: number | null
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  readonly classification: C.Classification
}

const EMPTY = new Uint8Array(0)

/**
 * Sends `request` and classifies the outcome. Never fails: transport faults,
 * timeouts and unreadable bodies are classifications too.
 */
export const exchange = (
  endpoint: Endpoint,
  request: HttpClientRequest.HttpClientRequest,
  settings: Settings,
  credential?: CredentialFacts
): Effect.Effect<Exchange, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const outcome = yield* client.execute(request).pipe(
      Effect.flatMap((response) =>
        readCapped(response.stream, settings.maxBodyBytes).pipe(
          Effect.map((body) => ({ status: response.status, headers: response.headers, body }))
        )
      ),
      Effect.scoped,
      Effect.timeoutFail({ duration: settings.timeoutMs, onTimeout: () => "timeout" as const }),
      Effect.catchAll((error) =>
        Effect.succeed({ status: null, headers: {}, body: EMPTY, transport: transportReason(error) } as const)
      )
    )
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const classification = classify({
      endpoint,
      status: outcome.status,
      transportError: "transport" in outcome ? outcome.transport : undefined,
      headers: outcome.headers,
      body: outcome.body,
      credential,
      now
    })
    return { status: outcome.status, headers: outcome.headers, body: outcome.body, classification }
  })

/** Reads at most `max` bytes, then stops pulling (which aborts the response). */
export const readCapped = <E>(stream: Stream.Stream<Uint8Array, E>, max: number): Effect.Effect<Uint8Array, E> =>
  stream.pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (s) => s.size < max,
      (s, chunk) => {
        s.chunks.push(chunk)
        return { chunks: s.chunks, size: s.size + chunk.length }
      }
    ),
    Effect.map(({ chunks, size }) => {
      const out = new Uint8Array(Math.min(size, max))
      let offset = 0
      for (const chunk of chunks) {
        if (offset >= out.length) break
        const part = chunk.subarray(0, out.length - offset)
        out.set(part, offset)
        offset += part.length
      }
      return out
    })
  )

const transportReason = (error: HttpClientError.HttpClientError | "timeout"): C.TransportReason => {
  if (error === "timeout") return "timeout"
  // A failure while reading the body means the connection died half way.
  if (error._tag === "ResponseError") return "reset"
  return reasonOf(error.cause)
}
