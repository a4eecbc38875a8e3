// How a catalog row is written: the error bodies the reference records, a scripted step, and the
// one-endpoint, one-step scenario most error-table rows are.
import type { Expectation, Scenario, Step } from "../../Scenario.js"

export const JSON_TYPE = { "content-type": "application/json" }
export const envelope = (type: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "error", error: { type, message, ...extra }, request_id: "req_simcatalog" })
export const oauth = (error: string, description?: string) =>
  JSON.stringify(description === undefined ? { error } : { error, error_description: description })
export const step = (
  status: number,
  body: string,
  headers: Record<string, string> = {},
  extra: Partial<Step> = {}
): Step => ({
  status,
  headers: { ...JSON_TYPE, ...headers },
  body,
  ...extra
})
export const api = (
  name: string,
  summary: string,
  endpoint: "messages" | "usage" | "profile" | "token",
  s: Step,
  expect: Expectation,
  tags: Scenario["tags"] = ["error-table"]
): Scenario => ({ name, summary, script: { [endpoint]: [s] }, expect: { [endpoint]: expect }, tags })

export const rateLimited = envelope("rate_limit_error", "Rate limited. Please try again later.")
