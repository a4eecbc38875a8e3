/**
 * The named scenario catalog: every row of the reference's error tables,
 * every Retry-After form, token rotation, stale tokens, SSE-embedded limits,
 * unified headers, Cloudflare blocks and transport faults.
 *
 * @since 0.1.0
 */
import { edgeScenarios } from "./internal/catalog/edge.js"
import { errorTableScenarios } from "./internal/catalog/errorTable.js"
import { loginScenarios } from "./internal/catalog/login.js"
import { refreshScenarios } from "./internal/catalog/refresh.js"
import { retryAfterScenarios } from "./internal/catalog/retryAfter.js"
import { transportScenarios } from "./internal/catalog/transport.js"
import type { Scenario } from "./Scenario.js"

/**
 * Every scenario, in a stable order.
 *
 * @since 0.1.0
 */
export const catalog: ReadonlyArray<Scenario> = [
  ...loginScenarios,
  ...errorTableScenarios,
  ...refreshScenarios,
  ...edgeScenarios,
  ...retryAfterScenarios,
  ...transportScenarios
]

/**
 * A scenario by name; throws a clear error for an unknown name.
 *
 * @since 0.1.0
 */
export const find = (name: string): Scenario => {
  const found = catalog.find((s) => s.name === name)
  if (!found) throw new Error(`unknown scenario "${name}"; \`tollgate sim --list\` names them`)
  return found
}
