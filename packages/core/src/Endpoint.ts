/**
 * The upstream endpoints tollgate talks to. The endpoint is part of every
 * verdict: a 429 from the token endpoint is a refresh problem, a 429 from the
 * usage endpoint is a quota problem, and the two must never be confused.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `token` is `POST /v1/oauth/token` (refresh and code exchange), `usage` is
 * `GET /api/oauth/usage`, `profile` is `GET /api/oauth/profile`, `messages` is
 * `POST /v1/messages`.
 *
 * @since 0.1.0
 */
export const Endpoint = Schema.Literal("token", "usage", "profile", "messages")

/** One upstream endpoint's name; every verdict and backoff entry carries one. @since 0.1.0 */
export type Endpoint = typeof Endpoint.Type

/** Every endpoint, in a stable order. @since 0.1.0 */
export const all: ReadonlyArray<Endpoint> = Endpoint.literals

/** Whether a value names an endpoint. @since 0.1.0 */
export const is = Schema.is(Endpoint)
