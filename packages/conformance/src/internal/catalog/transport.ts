// Failures on the wire rather than from the API: resets, hangs, stalls, truncated and huge bodies.
import type { Scenario } from "../../Scenario.js"
import { JSON_TYPE } from "./rows.js"

export const transportScenarios: ReadonlyArray<Scenario> = [
  {
    name: "transport-reset",
    summary: "a connection reset is a transport failure, retried with backoff",
    script: { usage: [{ status: 200, fault: "reset" }] },
    expect: { usage: { tag: "Transport", reason: "reset" } },
    tags: ["transport"]
  },
  {
    name: "transport-hang",
    summary: "a server that never answers ends at the request deadline",
    script: { profile: [{ status: 200, fault: "hang" }] },
    expect: { profile: { tag: "Transport", reason: "timeout" } },
    tags: ["transport"]
  },
  {
    name: "transport-stall",
    summary: "a body that stalls half way ends at the request deadline",
    script: {
      usage: [
        {
          status: 200,
          headers: JSON_TYPE,
          body: JSON.stringify({ five_hour: { utilization: 1, resets_at: null } }),
          fault: "stall"
        }
      ]
    },
    expect: { usage: { tag: "Transport", reason: "timeout" } },
    tags: ["transport"]
  },
  {
    name: "truncated-json",
    summary: "a 200 with truncated JSON is a decode failure, not a success",
    script: {
      usage: [
        {
          status: 200,
          headers: JSON_TYPE,
          body: JSON.stringify({ five_hour: { utilization: 1, resets_at: null } }),
          fault: "truncate"
        }
      ]
    },
    expect: { usage: { tag: "Decode" } },
    tags: ["transport"]
  },
  {
    name: "huge-body",
    summary: "a multi-megabyte body is read only up to the cap",
    script: { profile: [{ status: 200, headers: JSON_TYPE, body: "{}", bodyBytes: 4 * 1024 * 1024 }] },
    expect: { profile: { tag: "Decode" } },
    tags: ["transport"]
  }
]
