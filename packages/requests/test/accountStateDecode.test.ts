// The state file's backoff entries are read with core's Backoff.Entry schema:
// what core wrote comes back whole (the verdict that armed a block included),
// and an entry core would refuse is dropped without losing the rest.
import * as Backoff from "@tollgate/core/Backoff"
import { classify } from "@tollgate/core/Classify"
import { describe, expect, it } from "vitest"
import * as AccountState from "../src/internal/accountState.js"

const NOW = Date.UTC(2026, 11, 4, 12)

describe("the state file's backoff, decoded by core's schema", () => {
  it("keeps what core wrote, the arming verdict included, and drops what it would refuse", () => {
    const revoked = classify({
      endpoint: "token",
      status: 400,
      body: JSON.stringify({ error: "invalid_grant", error_description: "Refresh token revoked" }),
      now: NOW
    })
    const armed = Backoff.next(Backoff.empty, revoked, NOW, "fp-1", 0.5, Backoff.defaultConfig.token)
    const file = JSON.parse(
      JSON.stringify({
        version: 1,
        accounts: {},
        backoff: {
          "token oauth:good": armed,
          "token oauth:negative": { failures: -1, until: null, blockedFingerprint: null, verdict: null },
          "token oauth:text": { failures: "3", until: null, blockedFingerprint: null, verdict: null },
          "token oauth:old-without-failure": {
            failures: 2,
            until: NOW + 1_000,
            blockedFingerprint: null,
            verdict: "Overloaded"
          }
        }
      })
    ) as unknown
    const decoded = AccountState.decode(file)
    expect(Object.keys(decoded.backoff).sort()).toEqual(["token oauth:good", "token oauth:old-without-failure"])
    const good = decoded.backoff["token oauth:good"]!
    expect(Backoff.decide(good, NOW, "fp-1")).toMatchObject({ _tag: "Blocked", failure: { _tag: "RefreshRejected" } })
    expect(Backoff.decide(decoded.backoff["token oauth:old-without-failure"]!, NOW, null)).toMatchObject({
      _tag: "Delayed"
    })
  })
})
