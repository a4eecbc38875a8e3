/**
 * How a request is signed with a subscription login: the bearer token and the
 * OAuth beta, added to whatever betas the caller already asked for. One
 * definition for core's own calls (usage, profile) and for every request an
 * adapter forwards (`@tollgate/requests`).
 *
 * @since 0.2.0
 */

/**
 * `beta` added once to a comma-separated `anthropic-beta` list, blanks
 * dropped, the caller's betas kept in their order.
 *
 * @since 0.2.0
 */
export const mergeBeta = (existing: string | null | undefined, beta: string): string => {
  const betas = (existing ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
  return (betas.includes(beta) ? betas : [...betas, beta]).join(",")
}

/**
 * The headers that sign a request with an OAuth access token: `authorization`
 * and `anthropic-beta` (the OAuth beta merged into `existingBeta`). The
 * caller removes any other credential (`x-api-key`) it carried.
 *
 * @since 0.2.0
 */
export const oauthHeaders = (
  accessToken: string,
  oauthBeta: string,
  existingBeta: string | null = null
): { readonly authorization: string; readonly "anthropic-beta": string } => ({
  authorization: `Bearer ${accessToken}`,
  "anthropic-beta": mergeBeta(existingBeta, oauthBeta)
})
