// Cloudflare in front of the API: blocks that are not an OAuth or API verdict.
import type { Scenario } from "../../Scenario.js"
import { api } from "./rows.js"

export const edgeScenarios: ReadonlyArray<Scenario> = [
  api(
    "edge-1010",
    "Cloudflare 1010 (missing or banned UA) is an edge block, not an OAuth verdict",
    "token",
    { status: 403, headers: { "content-type": "text/plain" }, body: "error code: 1010" },
    { tag: "EdgeBlocked", reason: "cloudflare_1010" },
    ["edge"]
  ),
  api(
    "edge-challenge",
    "a Cloudflare challenge page is an edge block",
    "usage",
    {
      status: 403,
      headers: { "content-type": "text/html; charset=UTF-8" },
      body: '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body></body></html>'
    },
    { tag: "EdgeBlocked", reason: "challenge" },
    ["edge"]
  )
]
