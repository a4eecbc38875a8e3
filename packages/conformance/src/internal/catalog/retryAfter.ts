// Every Retry-After form on a throttled usage call: seconds, HTTP-date, milliseconds, and the
// zero, garbage and absurd values that must not be taken at face value.
import type { Expectation, Scenario, Step } from "../../Scenario.js"
import { rateLimited, step } from "./rows.js"

const retryAfter = (
  name: string,
  summary: string,
  headers: Record<string, string>,
  expect: Partial<Expectation>,
  times: Step["times"] = 1
): Scenario => ({
  name,
  summary,
  script: { usage: [step(429, rateLimited, headers, { times })] },
  expect: { usage: { tag: "RateLimited", limitKind: "throttle", ...expect } },
  tags: ["retry-after"]
})

export const retryAfterScenarios: ReadonlyArray<Scenario> = [
  retryAfter(
    "retry-after-seconds",
    "Retry-After in delta-seconds is honoured",
    { "retry-after": "3600" },
    { retryAfterMs: 3_600_000 }
  ),
  retryAfter(
    "retry-after-http-date",
    "Retry-After as an HTTP-date is honoured relative to the clock",
    { "retry-after": "{{http-date:+900}}" },
    {}
  ),
  retryAfter(
    "retry-after-ms",
    "retry-after-ms wins over Retry-After",
    { "retry-after-ms": "2500", "retry-after": "60" },
    { retryAfterMs: 2500 }
  ),
  retryAfter(
    "retry-after-zero-persists",
    "retry-after: 0 that persists counts as absent: calls are spaced by the policy floor",
    { "retry-after": "0" },
    { retryAfterMs: null },
    "always"
  ),
  retryAfter(
    "retry-after-garbage",
    "a garbage Retry-After counts as absent",
    { "retry-after": "when pigs fly" },
    { retryAfterMs: null }
  ),
  retryAfter(
    "retry-after-huge",
    "an absurd Retry-After is capped",
    { "retry-after": "31536000000" },
    { retryAfterMs: 6 * 3600_000 }
  )
]
