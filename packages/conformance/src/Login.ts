/**
 * The login a suite hands an adapter: what a credential store would hold.
 *
 * @since 0.1.0
 */
import type { Issued } from "./Simulator.js"

/**
 * The login a suite hands an adapter, in the fields a credential store keeps, so
 * each adapter can seed its own store with it.
 *
 * @since 0.1.0
 */
export interface Login {
  readonly accessToken: string
  readonly refreshToken: string | null
  /** Epoch ms. */
  readonly expiresAt: number
  /** `null` when the store has no `scopes` field (unknown). */
  readonly scopes: ReadonlyArray<string> | null
  readonly subscriptionType: string
}

/** The login the simulator issued. @since 0.1.0 */
export const fromIssued = (issued: Issued): Login => ({
  accessToken: issued.accessToken,
  refreshToken: issued.refreshToken,
  expiresAt: issued.expiresAt,
  scopes: issued.scopes,
  subscriptionType: issued.subscriptionType
})
