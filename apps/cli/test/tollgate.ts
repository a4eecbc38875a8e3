/**
 * Runs the real `tollgate` CLI (TypeScript source through tsx's loader) in a
 * throwaway sandbox: its own HOME, XDG_* directories and TMPDIR, and no
 * environment inherited from the test runner except PATH — so no CLAUDE_*
 * variable leaks in and nothing touches the real home directory.
 */
import { spawn } from "node:child_process"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { test as base } from "vitest"

// The dispatcher, as the built `tollgate` runs it.
const BIN = fileURLToPath(new URL("../src/main.ts", import.meta.url))
// Loading tsx's ESM hook into one node process is about twice as fast as the
// tsx CLI, which starts a second node process.
const TSX_ESM = fileURLToPath(new URL("../../../node_modules/tsx/dist/esm/index.mjs", import.meta.url))

/** What one run printed and how it exited. */
export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A temp directory tree standing in for a user's home. */
export interface Sandbox {
  readonly root: string
  readonly home: string
  /** The environment every run gets, before per-run additions. */
  readonly env: Readonly<Record<string, string>>
  readonly cleanup: () => Promise<void>
}

/** Creates a sandbox; call `cleanup` when the test ends. */
export const makeSandbox = async (): Promise<Sandbox> => {
  const root = await mkdtemp(join(tmpdir(), "tollgate-cli-test-"))
  const dirs = {
    HOME: join(root, "home"),
    XDG_CONFIG_HOME: join(root, "home/.config"),
    XDG_DATA_HOME: join(root, "home/.local/share"),
    XDG_STATE_HOME: join(root, "home/.local/state"),
    XDG_CACHE_HOME: join(root, "home/.cache"),
    XDG_RUNTIME_DIR: join(root, "run"),
    TMPDIR: join(root, "tmp")
  }
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true, mode: 0o700 })))
  return {
    root,
    home: dirs.HOME,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", NO_COLOR: "1", ...dirs },
    cleanup: () => rm(root, { recursive: true, force: true })
  }
}

/** Runs `tollgate <args>` in the sandbox; `stdin` is written and then closed. */
export const tollgate = (
  sandbox: Sandbox,
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly env?: Readonly<Record<string, string>> } = {}
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX_ESM, BIN, ...args], {
      cwd: sandbox.root,
      env: { ...sandbox.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 20_000
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? "")
  })

/** Starts a long-running `tollgate <args>` (e.g. `sim`) in the sandbox; the caller ends it. */
export const start = (sandbox: Sandbox, args: ReadonlyArray<string>) =>
  spawn(process.execPath, ["--import", TSX_ESM, BIN, ...args], {
    cwd: sandbox.root,
    env: sandbox.env,
    stdio: ["ignore", "pipe", "pipe"]
  })

/**
 * `test` with a fresh {@link Sandbox} per test, removed afterwards. A fixture
 * rather than `beforeEach` because the tests run concurrently.
 */
export const test = base.extend<{ sandbox: Sandbox }>({
  // vitest reads fixture dependencies from this (empty) destructuring pattern.
  sandbox: async ({}, use) => {
    const sandbox = await makeSandbox()
    await use(sandbox)
    await sandbox.cleanup()
  }
})
