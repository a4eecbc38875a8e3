/**
 * Running the real `claude` binary as a judge of credential files, safely:
 * always with a throwaway HOME (XDG dirs and TMPDIR inside it), a scrubbed
 * environment, closed stdin and a timeout, so a test can never read or rotate
 * the developer's own login.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Sandbox from "./Sandbox.js"

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..")

/** Absolute path of the `claude` executable installed as this package's dev dependency. */
export const claudeBinary = (): string => {
  try {
    const require = createRequire(import.meta.url)
    // The package has no `exports` map, so its package.json is resolvable and names the bin.
    const manifestPath = require.resolve("@anthropic-ai/claude-code/package.json")
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: string | Record<string, string> }
    const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.["claude"]
    if (bin !== undefined) {
      const path = join(dirname(manifestPath), bin)
      if (existsSync(path)) return path
    }
  } catch {
    // Fall through to the package manager's shim.
  }
  const shim = join(packageDir, "node_modules", ".bin", "claude")
  if (existsSync(shim)) return shim
  throw new Error("claudeBinary: @anthropic-ai/claude-code is not installed for @tollgate/conformance")
}

/** A throwaway home directory for one Claude Code run. */
export interface TempHome {
  readonly home: string
  /** `$HOME/.claude`, where Claude Code keeps `.credentials.json`. */
  readonly claudeDir: string
  /** A complete environment for the child: nothing else from `process.env` leaks in. */
  readonly env: Readonly<Record<string, string>>
  /** Removes the whole directory. */
  cleanup(): Promise<void>
}

/**
 * Creates a temporary HOME with `.claude/`, `tmp/` and every XDG directory
 * inside it. The returned env holds HOME, XDG_*, TMPDIR and PATH only; in
 * particular no CLAUDE_* or ANTHROPIC_* variable is inherited.
 */
export const makeTempHome = async (prefix = "tollgate-claude-"): Promise<TempHome> => {
  const isolated = await Sandbox.make(prefix, [".claude"])
  const claudeDir = join(isolated.home, ".claude")
  const env = { ...isolated.env }
  if (process.platform === "darwin") {
    // On macOS the store is the login Keychain, which a fake HOME does not isolate. A config dir
    // makes Claude Code use its own hashed Keychain service name, never the developer's real entry.
    env["CLAUDE_CONFIG_DIR"] = claudeDir
  }
  return { home: isolated.home, claudeDir, env, cleanup: isolated.cleanup }
}

/** Outcome of one `claude auth status` run. */
export interface AuthStatus {
  /** The process exit code; -1 when it was killed (timeout or signal). */
  readonly exitCode: number
  /** The JSON document printed on stdout, or null when stdout was not a JSON object. */
  readonly json: Record<string, unknown> | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
  readonly durationMs: number
}

/**
 * Runs `claude auth status` with exactly `env` (typically a {@link makeTempHome}
 * env merged with a MITM proxy env), stdin closed, in `cwd` (default: `env.HOME`,
 * so no project settings from the caller's working tree apply).
 */
export const claudeAuthStatus = (options: {
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs?: number
  readonly cwd?: string
}): Promise<AuthStatus> =>
  new Promise((resolvePromise, reject) => {
    const started = Date.now()
    const timeoutMs = options.timeoutMs ?? 20_000
    const child = spawn(claudeBinary(), ["auth", "status"], {
      env: { ...options.env },
      cwd: options.cwd ?? options.env["HOME"] ?? tmpdir(),
      // Closed stdin: Claude Code must never wait for, or read, input from the test runner.
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
      killSignal: "SIGKILL"
    })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk))
    child.once("error", reject)
    child.once("close", (code, signal) => {
      const out = Buffer.concat(stdout).toString("utf8")
      resolvePromise({
        exitCode: code ?? -1,
        json: parseObject(out),
        stdout: out,
        stderr: Buffer.concat(stderr).toString("utf8"),
        timedOut: signal !== null && Date.now() - started >= timeoutMs,
        durationMs: Date.now() - started
      })
    })
  })

const parseObject = (text: string): Record<string, unknown> | null => {
  try {
    const value: unknown = JSON.parse(text.trim())
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}
