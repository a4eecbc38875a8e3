/**
 * The classifier: the single place that reads upstream status codes, headers
 * and bodies. It is a total function — any status, any headers, any bytes —
 * that never throws and always yields a {@link Classification.Classification}.
 *
 * @since 0.1.0
 */
import type * as Classification from "./Classification.js"
import type { Endpoint } from "./Endpoint.js"
import { classify as run } from "./internal/classifier.js"
import { isEventStream as eventStream } from "./internal/body.js"
import { reasonOf } from "./internal/transport.js"
import type * as RetryAfter from "./RetryAfter.js"
import type * as Scopes from "./Scopes.js"

/**
 * What the classifier knows about the credential the request was sent with.
 * `scopes` absent means unknown.
 *
 * @since 0.1.0
 */
export interface CredentialFacts {
  readonly scopes?: Scopes.ScopeSet | ReadonlyArray<string> | null | undefined
  /** Epoch milliseconds; `null` never expires. */
  readonly expiresAt?: number | null | undefined
}

/**
 * One observed outcome of one request.
 *
 * @since 0.1.0
 */
export interface Input {
  readonly endpoint: Endpoint
  /** HTTP status, or `null` when no response arrived. */
  readonly status: number | null
  /** Why no response arrived; read only when `status` is `null`. */
  readonly transportError?: Classification.TransportReason | undefined
  /** Response headers; names in any case. */
  readonly headers?: Readonly<Record<string, string | ReadonlyArray<string> | undefined>> | undefined
  /** The body as received (only a prefix is inspected). */
  readonly body?: string | Uint8Array | null | undefined
  readonly credential?: CredentialFacts | null | undefined
  /** Epoch milliseconds of the observation. */
  readonly now: number
  readonly retryAfterPolicy?: RetryAfter.Policy | undefined
}

/**
 * Classifies one outcome.
 *
 * @since 0.1.0
 */
export const classify: (input: Input) => Classification.Classification = run

/**
 * The transport reason for what an HTTP client threw instead of answering
 * (`fetch`'s `TypeError` with an `ECONNREFUSED` cause, an `AbortError`, a
 * timeout…), for `Input.transportError`.
 *
 * @since 0.1.0
 */
export const transportReasonOf: (thrown: unknown) => Classification.TransportReason = reasonOf

/**
 * Whether an answer with this `content-type` is an event stream, as the
 * classifier reads it: what a runtime passes on event by event (and watches
 * for `event: error`) rather than reading whole.
 *
 * @since 0.1.0
 */
export const isEventStream: (contentType: string | null | undefined) => boolean = eventStream
