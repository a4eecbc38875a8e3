// Credential documents the harness writes and the tests expect back, built
// deterministically so a test can rebuild exactly what a killed writer wrote.

/** The Claude Code fields every document carries (fake, non-secret tokens). */
const login = (variant: "A" | "B") => ({
  accessToken: `sk-ant-oat01-crash-${variant}-not-a-secret`,
  refreshToken: `sk-ant-ort01-crash-${variant}-not-a-secret`,
  expiresAt: 1_900_000_000_000,
  scopes: ["user:inference", "user:profile", "user:sessions:claude_code"],
  subscriptionType: "max",
  rateLimitTier: "default_claude_max_20x"
})

const blob = (variant: "A" | "B", entries: number): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (let i = 0; i < entries; i++) {
    out[`server-${variant}-${i}|${(i * 2654435761) % 1_000_003}`] = {
      serverName: `server-${variant}-${i}`,
      accessToken: `mcp-${variant}-${i}-${"x".repeat(96)}`,
      expiresAt: 1_800_000_000_000 + i
    }
  }
  return out
}

/** Entries in the `mcpOAuth` blob: about 140 KB of JSON, so one write takes measurable time. */
export const CRASH_BLOB_ENTRIES = 600

const blobs = new Map<string, Record<string, unknown>>()
const blobFor = (variant: "A" | "B") => {
  const known = blobs.get(variant)
  if (known !== undefined) return known
  const made = blob(variant, CRASH_BLOB_ENTRIES)
  blobs.set(variant, made)
  return made
}

/**
 * The document the crash writer writes as its `counter`-th write: even
 * counters are variant A, odd ones variant B, each complete and different in
 * every part (login, blob, a top-level key).
 */
export const crashDocument = (counter: number): Record<string, unknown> => {
  const variant = counter % 2 === 0 ? "A" : "B"
  return {
    claudeAiOauth: { ...login(variant), counter, variant },
    mcpOAuth: blobFor(variant),
    [`only${variant}`]: true
  }
}
