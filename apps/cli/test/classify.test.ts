import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe } from "vitest"
import { test as it, tollgate } from "./tollgate.js"

const missingScopeBody = JSON.stringify({
  type: "error",
  // The upstream message may break the line before the scope (reference, section 5).
  error: { type: "permission_error", message: "OAuth token does not meet scope requirement\n   user:profile" },
  request_id: "req_011CTest"
})

const parse = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>

describe.concurrent("tollgate classify", () => {
  it("classifies a 403 missing-scope body from the usage endpoint, read from stdin", async ({ expect, sandbox }) => {
    const run = await tollgate(sandbox, ["classify"], {
      stdin: JSON.stringify({ endpoint: "usage", status: 403, body: missingScopeBody, credential: { scopes: [] } })
    })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(run.stdout).toMatch(/^\{\n {2}"tag": "MissingScope",\n/) // pretty, 2-space
    expect(parse(run.stdout)).toMatchObject({
      tag: "MissingScope",
      endpoint: "usage",
      status: 403,
      scope: "user:profile",
      action: "skip_endpoint",
      retryable: false,
      retryAfterMs: null,
      requestId: "req_011CTest",
      message: expect.stringContaining("user:profile")
    })
  })

  it("reads --file and honours an HTTP-date Retry-After relative to `now`", async ({ expect, sandbox }) => {
    const now = Date.UTC(2026, 9, 21, 7, 26, 30, 250)
    const file = join(sandbox.root, "observed.json")
    await writeFile(
      file,
      JSON.stringify({
        endpoint: "messages",
        status: 429,
        headers: { "Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT" },
        body: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "Rate limited." } }),
        credential: { expiresAt: now + 3_600_000 },
        now
      })
    )
    // stdin is ignored when --file is given.
    const run = await tollgate(sandbox, ["classify", "--file", file], { stdin: "not json" })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(parse(run.stdout)).toMatchObject({
      tag: "RateLimited",
      endpoint: "messages",
      action: "wait",
      retryable: true,
      retryAfterMs: 89_750,
      limitKind: "throttle",
      resetsAt: now + 89_750
    })
  })

  it("rejects input that is not JSON: exit 2, one line on stderr, nothing on stdout", async ({ expect, sandbox }) => {
    const run = await tollgate(sandbox, ["classify"], { stdin: "{endpoint: usage" })
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr).toMatch(/^tollgate classify: the input is not valid JSON\b[^\n]*\n$/)
  })

  // Other shapes of bad input are covered in-process by ClassifyInput.test.ts.
  it("rejects an unknown endpoint, naming the field", async ({ expect, sandbox }) => {
    const endpoint = await tollgate(sandbox, ["classify"], {
      stdin: JSON.stringify({ endpoint: "billing", status: 200 })
    })
    expect(endpoint).toMatchObject({ code: 2, stdout: "" })
    expect(endpoint.stderr).toBe(
      'tollgate classify: endpoint: expected one of "token", "usage", "profile", "messages", got "billing"\n'
    )
  })
})

// Every field at both depths is checked in-process by ClassifyInput.test.ts; these prove the exit path.
describe.concurrent("tollgate classify on deeply nested input", () => {
  const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`

  it("20k and 100k nested arrays: exit 2 and one line, never a stack overflow", async ({ expect, sandbox }) => {
    const file = join(sandbox.root, "deep.json")
    await writeFile(file, `{"endpoint":"messages","status":429,"headers":${nested(100_000)}}`)
    const [fromStdin, fromFile] = await Promise.all([
      tollgate(sandbox, ["classify"], { stdin: `{"endpoint":"messages","status":429,"now":${nested(20_000)}}` }),
      tollgate(sandbox, ["classify", "--file", file])
    ])
    expect(fromStdin).toMatchObject({ code: 2, stdout: "" })
    expect(fromStdin.stderr).toBe("tollgate classify: now: nested deeper than 64 levels (at character 105)\n")
    expect(fromFile).toMatchObject({ code: 2, stdout: "" })
    expect(fromFile.stderr).toBe("tollgate classify: headers: nested deeper than 64 levels (at character 109)\n")
  })

  it("a body string holding deeply nested JSON is classified", async ({ expect, sandbox }) => {
    const body = `{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited.","details":${nested(30_000)}}}`
    const run = await tollgate(sandbox, ["classify"], {
      stdin: JSON.stringify({ endpoint: "messages", status: 429, body })
    })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(parse(run.stdout)).toMatchObject({ tag: "RateLimited", endpoint: "messages" })
  })
})

describe.concurrent("tollgate --help", () => {
  it("works on the root and on every subcommand, without ANSI escapes under NO_COLOR", async ({ expect, sandbox }) => {
    const runs = await Promise.all([
      tollgate(sandbox, ["--help"]),
      tollgate(sandbox, ["classify", "--help"]),
      tollgate(sandbox, ["doctor", "--help"])
    ])
    for (const run of runs) {
      expect(run).toMatchObject({ code: 0, stderr: "" })
      expect(run.stdout).not.toContain("\u001b")
    }
    expect(runs[0]?.stdout).toMatch(/classify[\s\S]*doctor/)
    expect(runs[1]?.stdout).toContain("--file")
    expect(runs[2]?.stdout).toContain("--json")
  })
})
