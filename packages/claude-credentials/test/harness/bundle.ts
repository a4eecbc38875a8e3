// Bundles test/harness/main.ts (and, for secrets.processes.test.ts, the CLI) into one
// ESM file each with esbuild, so a spawned child starts in a few hundred ms
// instead of paying tsx's compile on every run. (apps/cli/build.mjs ships
// CommonJS for its code cache; these children need no cache, and ESM keeps
// the CLI's import.meta.url as it is in the sources.)
import { spawn } from "node:child_process"
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const HARNESS_ENTRY = fileURLToPath(new URL("./main.ts", import.meta.url))
const CLI_ENTRY = fileURLToPath(new URL("../../../../apps/cli/src/bin.ts", import.meta.url))

// CommonJS dependencies bundled into ESM still call require(); give them a real one.
const banner = { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' }

const bundle = async (entry: string, outfile: string): Promise<string> => {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    banner,
    // As apps/cli/build.mjs: ES module builds first (jsonc-parser's UMD main loads its own files at run time).
    mainFields: ["module", "main"],
    legalComments: "none",
    logLevel: "warning"
  })
  return outfile
}

/** A temp directory for bundles and sandboxes, removed by `cleanup`. */
export interface Workspace {
  readonly dir: string
  /** `node <harness.mjs>` ready to spawn. */
  readonly harness: string
  readonly cleanup: () => Promise<void>
}

/** Creates a workspace and bundles the harness into it. */
export const makeWorkspace = async (prefix: string): Promise<Workspace> => {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  const harness = await bundle(HARNESS_ENTRY, path.join(dir, "bundle", "harness.mjs"))
  return { dir, harness, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Bundles the `tollgate` CLI (apps/cli/src/bin.ts) into `dir`. */
export const bundleCli = async (dir: string): Promise<string> => {
  await mkdir(dir, { recursive: true })
  return bundle(CLI_ENTRY, path.join(dir, "tollgate.mjs"))
}

/** What one child printed and how it ended. */
export interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A spawned child with its output collected and its command line as the kernel shows it. */
export interface Child {
  readonly pid: number
  /** `/proc/<pid>/cmdline` read right after spawn (NULs turned into spaces), or "" off Linux. */
  readonly cmdline: Promise<string>
  /** Resolves once `text` has appeared on stdout. */
  readonly printed: (text: string) => Promise<void>
  readonly stdout: () => string
  readonly ended: Promise<Ended>
  readonly kill: (signal: NodeJS.Signals) => void
}

/**
 * Spawns `node <script> ...args` with exactly `env` (a temp HOME's, never the
 * runner's), stdin closed, and a kill after `timeoutMs`.
 */
export const spawnNode = (
  script: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  options: { readonly timeoutMs?: number; readonly cwd?: string } = {}
): Child => {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...env },
    cwd: options.cwd ?? env["HOME"] ?? tmpdir(),
    stdio: ["ignore", "pipe", "pipe"],
    timeout: options.timeoutMs ?? 60_000,
    killSignal: "SIGKILL"
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`spawn of ${script} failed`)
  const cmdline = readFile(`/proc/${pid}/cmdline`, "latin1").then(
    (text) => text.replace(/\0/g, " "),
    () => ""
  )
  let stdout = ""
  let stderr = ""
  const waiters: Array<{ text: string; resolve: () => void }> = []
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    for (const w of waiters.splice(0)) {
      if (stdout.includes(w.text)) w.resolve()
      else waiters.push(w)
    }
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const ended = new Promise<Ended>((resolve, reject) => {
    child.once("error", reject)
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return {
    pid,
    cmdline,
    printed: (text) =>
      stdout.includes(text)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ text, resolve })),
            ended.then((e) => {
              if (!e.stdout.includes(text)) {
                throw new Error(
                  `child exited (${e.code ?? e.signal}) before printing ${JSON.stringify(text)}: ${e.stderr}`
                )
              }
            })
          ]),
    stdout: () => stdout,
    ended,
    kill: (signal) => void child.kill(signal)
  }
}

/** The harness's `RESULT <json>` line. */
export interface HarnessResult {
  readonly ok: boolean
  readonly outcome?: "Refreshed" | "Adopted" | "NotNeeded"
  readonly fingerprint?: string
  readonly tag?: string
  readonly message?: string
  readonly ms: number
}

/** Parses the `RESULT` line a `refresh` child printed, or `null`. */
export const resultOf = (stdout: string): HarnessResult | null => {
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "))
  return line === undefined ? null : (JSON.parse(line.slice("RESULT ".length)) as HarnessResult)
}
