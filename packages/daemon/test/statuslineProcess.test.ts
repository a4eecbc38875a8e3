// The statusline client bundled and run as Claude Code runs it: a process per render.
import { build } from "esbuild"
import { spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { LINGER_MS } from "../src/statusline/main.js"
import { claudeInput } from "./support/claudeInput.js"

describe("the bundled client as a process", () => {
  const MAIN = fileURLToPath(new URL("../src/statusline/main.ts", import.meta.url))
  let root: string
  let bundle: string
  let inputs: Array<string>

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "tg-sl-proc-"))
    bundle = join(root, "statusline.cjs")
    const result = await build({
      stdin: { contents: `import { run } from ${JSON.stringify(MAIN)}\nvoid run()\n`, resolveDir: root, loader: "ts" },
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      metafile: true,
      logLevel: "silent"
    })
    inputs = Object.keys(result.metafile.inputs)
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  /**
   * Spawns the bundle; `stdin` is written, and the pipe closed at once
   * (`true`), after that many ms, or never (`false`; "ignore" gives it
   * /dev/null). `outMs` is when the line arrived.
   */
  const spawnClient = (stdin: string, close: boolean | number | "ignore") =>
    new Promise<{
      code: number | null
      signal: string | null
      stdout: string
      stderr: string
      ms: number
      outMs: number
    }>((resolve, reject) => {
      const started = performance.now()
      const child = spawn(process.execPath, [bundle], {
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          HOME: join(root, "home"),
          XDG_RUNTIME_DIR: join(root, "run"),
          NO_COLOR: "1"
        },
        stdio: [close === "ignore" ? "ignore" : "pipe", "pipe", "pipe"],
        timeout: 10_000
      })
      let stdout = ""
      let stderr = ""
      let outMs = NaN
      child.stdout!.setEncoding("utf8").on("data", (c: string) => {
        if (stdout === "") outMs = performance.now() - started
        stdout += c
      })
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
      child.on("error", reject)
      child.on("close", (code, signal) =>
        resolve({ code, signal, stdout, stderr, ms: performance.now() - started, outMs })
      )
      if (child.stdin === null) return
      child.stdin.on("error", () => {})
      if (close === true) child.stdin.end(stdin)
      else {
        child.stdin.write(stdin)
        if (typeof close === "number") setTimeout(() => child.stdin?.end(), close)
      }
    })

  it("imports nothing from node_modules (no Effect on the hot path)", () => {
    expect(inputs.filter((i) => i.includes("node_modules"))).toEqual([])
    expect(inputs.map((i) => i.split("/").slice(-2).join("/")).sort()).toEqual(
      [
        "<stdin>",
        "src/Paths.ts",
        "src/Protocol.ts",
        "src/RuntimeDirectory.ts",
        "statusline/format.ts",
        "statusline/main.ts",
        "statusline/reply.ts",
        "statusline/stdin.ts",
        // @tollgate/files, for the ownership checks and the capped read: plain node:fs, no node:crypto.
        "src/PrivateDirectory.ts",
        "src/SafeRead.ts",
        "src/UnsafePath.ts",
        "src/Xdg.ts",
        "internal/stats.ts"
      ].sort()
    )
  })

  it("exits 0 at once when stdin stays open after a complete document", async () => {
    const r = await spawnClient(JSON.stringify(claudeInput(42, 13)), false)
    expect(r).toMatchObject({ code: 0, stdout: "🚦 5h:42% 7d:13% · daemon down\n", stderr: "" })
    // Process start-up plus well under the budget: it did not wait for EOF.
    expect(r.ms).toBeLessThan(5_000)
  })

  it("exits 0 at once when stdin is empty or /dev/null", async () => {
    for (const close of [true, "ignore"] as const) {
      const r = await spawnClient("", close)
      expect(r).toMatchObject({ code: 0, signal: null, stdout: "🚦 daemon down\n", stderr: "" })
      expect(r.ms).toBeLessThan(5_000)
    }
  })

  it("prints on time when stdin stays open and silent, then exits 0 when it ends, or ends itself after LINGER_MS", async () => {
    // The read of a silent stdin cannot be cancelled: the line goes out after the idle wait, the process waits for stdin.
    const ended = await spawnClient("", LINGER_MS / 2 + 100)
    expect(ended).toMatchObject({ code: 0, signal: null, stdout: "🚦 daemon down\n", stderr: "" })
    expect(ended.ms - ended.outMs).toBeGreaterThan(LINGER_MS / 4)
    const silent = await spawnClient("", false)
    expect(silent).toMatchObject({ code: null, signal: "SIGKILL", stdout: "🚦 daemon down\n", stderr: "" })
    expect(silent.ms - silent.outMs).toBeGreaterThanOrEqual(LINGER_MS - 50)
    expect(silent.ms).toBeLessThan(LINGER_MS + 5_000)
  })
})
