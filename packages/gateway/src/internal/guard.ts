/**
 * Who may use the gateway: requests from this machine's own clients only.
 * A `Host` that is not a loopback name means the request was aimed at some
 * other name that resolved here (DNS rebinding); an `Origin` means a browser
 * page made it. Neither is a client of ours, whatever key it carries. The
 * key itself is compared in constant time.
 */

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"])

/** The host name of a `Host` header without its port; `null` when absent. */
export const hostName = (host: string | undefined): string | null => {
  if (host === undefined || host === "") return null
  const lower = host.trim().toLowerCase()
  if (lower.startsWith("[")) {
    const end = lower.indexOf("]")
    return end === -1 ? lower : lower.slice(0, end + 1)
  }
  const colon = lower.lastIndexOf(":")
  return colon === -1 ? lower : lower.slice(0, colon)
}

/** Why a request is refused before its key is looked at, or `null`. */
export const foreign = (headers: Readonly<Record<string, string>>): string | null => {
  const host = hostName(headers["host"])
  if (host === null || !LOOPBACK.has(host)) {
    return "tollgate gateway: refused a request whose Host is not 127.0.0.1 or localhost (it may come from a web page through DNS rebinding)"
  }
  if (headers["origin"] !== undefined) {
    return "tollgate gateway: refused a request from a web page (it carries an Origin); only local programs may use the gateway"
  }
  return null
}

/** The credential the client presented: `x-api-key`, else a bearer token. */
export const presented = (headers: Readonly<Record<string, string>>): string | null => {
  const apiKey = headers["x-api-key"]
  if (apiKey !== undefined && apiKey !== "") return apiKey.trim()
  const authorization = headers["authorization"]
  if (authorization === undefined) return null
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization)
  return match ? match[1]! : null
}
