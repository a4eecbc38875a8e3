// What Claude Code gives the statusline on stdin, at a fixed time, for the statusline tests.

export const NOW = new Date(2030, 0, 15, 13, 30, 0).getTime()
export const MIN = 60_000

/** Claude Code's statusline document with these two `rate_limits` percentages. */
export const claudeInput = (fiveHour: number, sevenDay: number) => ({
  session_id: "0b6c3f2e-1111-4222-8333-444455556666",
  transcript_path: "/tmp/project/transcript.jsonl",
  cwd: "/tmp/project",
  model: { id: "claude-opus-4-1", display_name: "Opus" },
  workspace: { current_dir: "/tmp/project", project_dir: "/tmp/project" },
  version: "2.1.330",
  cost: { total_cost_usd: 0.42 },
  context_window: { used_percentage: 12 },
  rate_limits: {
    five_hour: { used_percentage: fiveHour, resets_at: Math.floor((NOW + 4 * 60 * MIN) / 1000) },
    seven_day: { used_percentage: sevenDay, resets_at: Math.floor((NOW + 5 * 24 * 60 * MIN) / 1000) }
  }
})
