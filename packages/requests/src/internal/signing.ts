/**
 * Signing one request for one account: the bearer and the OAuth beta for a
 * subscription login, `x-api-key` for an API key, and the configured
 * User-Agent. Whatever credential opencode put on the request is dropped.
 */
import * as Signing from "@tollgate/core/Signing"
import type * as Account from "./account.js"

/** A request as opencode made it, its body buffered so it can be sent again. */
export interface Outgoing {
  readonly input: string | URL
  readonly init: RequestInit
  readonly body: RequestInit["body"]
}

export interface Signer {
  readonly oauthBeta: string
  readonly userAgent: string
  /** How a signed request is sent; default the global fetch. */
  readonly transport?: ((input: string | URL, init: RequestInit) => Promise<Response>) | undefined
}

/** The request's headers, signed for `login` (`access`: the OAuth access token). */
export const sign = (
  signer: Signer,
  headersInit: RequestInit["headers"],
  login: Account.Login,
  access: string | null
): Headers => {
  const headers = new Headers(headersInit)
  headers.delete("x-api-key")
  headers.delete("authorization")
  if (login.type === "api") {
    headers.set("x-api-key", login.key)
  } else {
    for (const [name, value] of Object.entries(
      Signing.oauthHeaders(access ?? "", signer.oauthBeta, headers.get("anthropic-beta"))
    )) {
      headers.set(name, value)
    }
  }
  headers.set("user-agent", signer.userAgent)
  return headers
}

/** Sends `request` signed for `login`. */
export const send = (
  signer: Signer,
  request: Outgoing,
  login: Account.Login,
  access: string | null
): Promise<Response> =>
  (signer.transport ?? fetch)(request.input, {
    ...request.init,
    headers: sign(signer, request.init.headers, login, access),
    body: request.body ?? null
  })

/** The body read into memory when it is a stream (a stream cannot be sent twice). */
export const buffer = async (input: string | URL, init: RequestInit): Promise<Outgoing> => ({
  input,
  init,
  body:
    init.body === undefined ||
    init.body === null ||
    typeof init.body === "string" ||
    init.body instanceof ArrayBuffer ||
    ArrayBuffer.isView(init.body)
      ? init.body
      : await new Response(init.body).arrayBuffer()
})
