// What the real service answers when no step is scripted: its route table, refresh-token rotation,
// the PKCE code exchange, scope and User-Agent enforcement, and the OAuth beta header on messages.
import { createHash } from "node:crypto"
import type { Endpoint } from "@tollgate/core/Endpoint"
import { ACCESS_TTL_SECONDS, type TokenBook } from "./accounts.js"
import * as R from "./responses.js"

export type Route = Endpoint | "authorize" | "other"

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** The parts of a request the real service looks at, already read off the wire. */
export interface Incoming {
  readonly url: URL
  readonly body: Record<string, unknown>
  readonly bearer: string | null
  readonly apiKey: string | null
  readonly userAgent: string | null
  readonly beta: string | null
}

const OAUTH_BETA = "oauth-2025-04-20"

export const routeOf = (method: string, path: string): Route => {
  if (method === "POST" && (path === "/v1/oauth/token" || path === "/oauth/token")) return "token"
  if (method === "GET" && path === "/api/oauth/usage") return "usage"
  if (method === "GET" && path === "/api/oauth/profile") return "profile"
  if (method === "POST" && (path === "/v1/messages" || path === "/v1/messages/count_tokens")) return "messages"
  if (method === "GET" && (path === "/oauth/authorize" || path === "/cai/oauth/authorize")) return "authorize"
  return "other"
}

export class RealService {
  // Authorization codes handed out by the authorize page, waiting for their exchange.
  private readonly codes = new Map<string, { challenge: string; state: string }>()

  constructor(
    private readonly book: TokenBook,
    private readonly now: () => number
  ) {}

  answer(route: Route, request: Incoming): Reply {
    switch (route) {
      case "token":
        return this.token(request)
      case "usage":
      case "profile":
        return this.bearerEndpoint(route, request)
      case "messages":
        return this.messages(request, request.url.pathname.endsWith("/count_tokens"))
      case "authorize":
        return this.authorize(request.url)
      case "other":
        return { status: 404, headers: R.JSON_TYPE, body: R.apiError("not_found_error", "Not found") }
    }
  }

  private token({ body, userAgent }: Incoming): Reply {
    const ua = userAgent ?? ""
    // The token endpoint's edge: no UA is a Cloudflare 1010, a Claude Code or browser UA is throttled.
    if (ua.trim() === "") return { status: 403, headers: { "content-type": "text/plain" }, body: "error code: 1010" }
    if (ua.startsWith("claude-code/") || ua.startsWith("Mozilla")) {
      return { status: 429, headers: R.JSON_TYPE, body: R.tokenRateLimited }
    }
    const grant = body["grant_type"]
    if (grant === "authorization_code") return this.exchange(body)
    if (grant !== "refresh_token" || typeof body["refresh_token"] !== "string") {
      return { status: 400, headers: R.JSON_TYPE, body: R.oauthError("invalid_request", "Unsupported grant") }
    }
    const rotated = this.book.rotate(body["refresh_token"])
    if (!rotated) {
      return {
        status: 400,
        headers: R.JSON_TYPE,
        body: R.oauthError("invalid_grant", "Refresh token not found or invalid")
      }
    }
    return {
      status: 200,
      headers: R.JSON_TYPE,
      body: R.tokenGrant(rotated.account, rotated.omitRefreshToken, ACCESS_TTL_SECONDS)
    }
  }

  private exchange(body: Record<string, unknown>): Reply {
    const code = typeof body["code"] === "string" ? body["code"].split("#")[0]! : ""
    const pending = this.codes.get(code)
    const verifier = typeof body["code_verifier"] === "string" ? body["code_verifier"] : ""
    if (!pending || createHash("sha256").update(verifier).digest("base64url") !== pending.challenge) {
      return { status: 400, headers: R.JSON_TYPE, body: R.oauthError("invalid_grant", "Invalid authorization code") }
    }
    this.codes.delete(code)
    const issued = this.book.seed()
    const account = this.book.all().find((a) => a.uuid === issued.accountUuid)!
    return { status: 200, headers: R.JSON_TYPE, body: R.tokenGrant(account, false, ACCESS_TTL_SECONDS) }
  }

  // The paste-the-code page: shows `code#state` as the real callback page does.
  private authorize(url: URL): Reply {
    const challenge = url.searchParams.get("code_challenge") ?? ""
    const state = url.searchParams.get("state") ?? ""
    if (url.searchParams.get("code_challenge_method") !== "S256" || challenge === "") {
      return { status: 400, headers: { "content-type": "text/plain" }, body: "PKCE S256 required" }
    }
    const code = `simcode_${Math.random().toString(36).slice(2)}`
    this.codes.set(code, { challenge, state })
    return { status: 200, headers: { "content-type": "text/plain" }, body: `${code}#${state}` }
  }

  private bearerEndpoint(route: "usage" | "profile", { bearer, userAgent }: Incoming): Reply {
    if (!bearer) {
      return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "Invalid bearer token") }
    }
    const found = this.book.byAccess(bearer)
    if (!found) {
      return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "Invalid bearer token") }
    }
    // The real usage endpoint answers a stale or rotated token with 429, not 401.
    if (found.state !== "current") {
      return route === "usage"
        ? {
            status: 429,
            headers: { ...R.JSON_TYPE, "retry-after": "0" },
            body: R.apiError("rate_limit_error", "Rate limited. Please try again later.")
          }
        : {
            status: 401,
            headers: R.JSON_TYPE,
            body: R.apiError(
              "authentication_error",
              "OAuth token has expired. Please obtain a new token or refresh your existing token."
            )
          }
    }
    if (!found.account.scopes.includes("user:profile")) {
      return { status: 403, headers: R.JSON_TYPE, body: R.scopeRequirement("user:profile") }
    }
    const ua = userAgent ?? ""
    if (route === "usage" && !/^claude-(code|cli)\//.test(ua)) {
      // Anything but a Claude Code UA lands in the harsh bucket.
      return {
        status: 429,
        headers: { ...R.JSON_TYPE, "retry-after": "0" },
        body: R.apiError("rate_limit_error", "Rate limited. Please try again later.")
      }
    }
    return {
      status: 200,
      headers: R.JSON_TYPE,
      body: route === "usage" ? R.usage(found.account, this.now()) : R.profile(found.account)
    }
  }

  private messages({ body, bearer, apiKey, beta }: Incoming, countTokens: boolean): Reply {
    const model = typeof body["model"] === "string" ? body["model"] : "claude-sonnet-4-5"
    const stream = body["stream"] === true
    let headers: Record<string, string> = {}
    if (bearer) {
      const found = this.book.byAccess(bearer)
      if (!found || found.state === "retired") {
        return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "Invalid bearer token") }
      }
      if (found.state === "expired") {
        return {
          status: 401,
          headers: R.JSON_TYPE,
          body: R.apiError(
            "authentication_error",
            "OAuth token has expired. Please obtain a new token or refresh your existing token."
          )
        }
      }
      if (
        !(beta ?? "")
          .split(",")
          .map((s) => s.trim())
          .includes(OAUTH_BETA)
      ) {
        return {
          status: 401,
          headers: R.JSON_TYPE,
          body: R.apiError("authentication_error", "OAuth authentication is currently not supported.")
        }
      }
      if (!found.account.scopes.includes("user:inference")) {
        return { status: 403, headers: R.JSON_TYPE, body: R.scopeRequirement("user:inference") }
      }
      headers = R.unifiedHeaders(found.account, this.now())
    } else if (!apiKey?.startsWith("sk-ant-api")) {
      return { status: 401, headers: R.JSON_TYPE, body: R.apiError("authentication_error", "invalid x-api-key") }
    }
    if (countTokens)
      return { status: 200, headers: { ...headers, ...R.JSON_TYPE }, body: JSON.stringify({ input_tokens: 12 }) }
    return stream
      ? { status: 200, headers: { ...headers, "content-type": "text/event-stream" }, body: R.messageStream(model) }
      : { status: 200, headers: { ...headers, ...R.JSON_TYPE }, body: R.message(model) }
  }
}
