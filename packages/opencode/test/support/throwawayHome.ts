/**
 * Child processes (Node, or the Bun inside opencode) that import the bundle
 * with a throwaway HOME, so nothing they touch is the real home directory.
 * Shared by `test/bundle.test.ts` and `bench/bundleLoad.ts`; no vitest here.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"

/** PATH, and HOME, the XDG directories and TMPDIR under `home` (TMPDIR `tmp` if given); nothing else inherited. */
export const throwawayHomeEnv = (home: string, tmp: string = home): Record<string, string> => ({
  PATH: process.env["PATH"] ?? "",
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  XDG_DATA_HOME: join(home, ".local", "share"),
  XDG_STATE_HOME: join(home, ".local", "state"),
  XDG_CACHE_HOME: join(home, ".cache"),
  TMPDIR: tmp
})

/** What a process printed and its exit code. */
export interface Output {
  readonly stdout: string
  readonly stderr: string
  readonly exit: number | null
}

/** Runs `command args` with exactly `env` and no stdin, to its end. */
export const collectOutput = (
  command: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>
): Promise<Output> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("error", reject)
    child.on("close", (exit) => resolve({ stdout, stderr, exit }))
  })
