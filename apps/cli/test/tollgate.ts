/**
 * Runs the real `tollgate` CLI (TypeScript source through tsx's loader) in a
 * throwaway sandbox: its own HOME, XDG_* directories and TMPDIR, and no
 * environment inherited from the test runner except PATH — so no CLAUDE_*
 * variable leaks in and nothing touches the real home directory. And the
 * world of the tests where the real opencode judges an install: the
 * simulator, an opencode home, the plugin bundled as `build.mjs` ships it.
 */
import { createRequire } from "node:module"
import { spawn } from "node:child_process"
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { anthropicOAuth, makeOpenCodeHome, type OpenCodeHome } from "@tollgate/conformance/OpenCode"
import { make as makeHome } from "@tollgate/conformance/Sandbox"
import * as Simulator from "@tollgate/conformance/Simulator"
import { afterAll, expect, test as base } from "vitest"
import { bundle } from "@tollgate/opencode/build"
import { buildCli } from "../build.mjs"

// The dispatcher, as the built `tollgate` runs it.
const BIN = fileURLToPath(new URL("../src/main.ts", import.meta.url))
// Loading tsx's ESM hook into one node process is about twice as fast as the
// tsx CLI, which starts a second node process.
const TSX_ESM = createRequire(import.meta.url).resolve("tsx/esm")

/** What one run printed and how it exited. */
export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A temp directory tree standing in for a user's home. */
export interface Sandbox {
  /** Where a test keeps its own files and runs commands from: the sandbox's HOME itself. */
  readonly root: string
  readonly home: string
  /** The environment every run gets, before per-run additions. */
  readonly env: Readonly<Record<string, string>>
  readonly cleanup: () => Promise<void>
}

/** Creates a sandbox (`@tollgate/conformance/Sandbox`, with NO_COLOR); call `cleanup` when the test ends. */
export const makeSandbox = async (): Promise<Sandbox> => {
  const made = await makeHome("tollgate-cli-test-")
  return { root: made.home, home: made.home, env: { ...made.env, NO_COLOR: "1" }, cleanup: made.cleanup }
}

/**
 * Runs `command args` in `cwd` with exactly `env`, killed after `timeoutMs`;
 * `stdin`, if given, is written and then closed, else the child has no stdin.
 */
export const collect = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  env: Readonly<Record<string, string>>,
  { stdin, timeoutMs }: { readonly stdin?: string | undefined; readonly timeoutMs: number }
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: timeoutMs
    })
    let stdout = ""
    let stderr = ""
    // Piped above, so never null (the variable stdin makes spawn's type the general one).
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    if (stdin !== undefined) child.stdin?.end(stdin)
  })

/** Runs `tollgate <args>` in the sandbox; `stdin` is written and then closed. */
export const tollgate = (
  sandbox: Sandbox,
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly env?: Readonly<Record<string, string>> } = {}
): Promise<Run> =>
  collect(
    process.execPath,
    ["--import", TSX_ESM, BIN, ...args],
    sandbox.root,
    { ...sandbox.env, ...options.env },
    {
      stdin: options.stdin ?? "",
      timeoutMs: 20_000
    }
  )

/** `tollgate <args>` in `cwd` (tollgate.ts's {@link tollgate} always runs in the sandbox root) with exactly `env`, no stdin. */
export const tollgateIn = (
  cwd: string,
  env: Readonly<Record<string, string>>,
  args: ReadonlyArray<string>,
  timeoutMs = 30_000
): Promise<Run> => collect(process.execPath, ["--import", TSX_ESM, BIN, ...args], cwd, env, { timeoutMs })

let built: Promise<{ readonly dir: string; readonly dispatcher: string }> | undefined

/**
 * The dispatcher as build.mjs ships it, built once per test file into a temp
 * directory (removed when the file's tests end). Installers run from it: from
 * the sources they refuse unless the checkout's own build is current, and
 * what they write must be the built command.
 */
export const builtDispatcher = async (): Promise<string> => {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "tollgate-cli-built-"))
    return { dir, dispatcher: await realpath(await buildCli(join(dir, "dist"))) }
  })()
  return (await built).dispatcher
}

afterAll(async () => {
  const done = await built?.catch(() => undefined)
  if (done !== undefined) await rm(done.dir, { recursive: true, force: true })
})

/** Runs the built `tollgate <args>` ({@link builtDispatcher}) in the sandbox with plain node. */
export const tollgateBuilt = async (
  sandbox: Sandbox,
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly env?: Readonly<Record<string, string>>; readonly cwd?: string } = {}
): Promise<Run> =>
  collect(
    process.execPath,
    [await builtDispatcher(), ...args],
    options.cwd ?? sandbox.root,
    { ...sandbox.env, ...options.env },
    {
      stdin: options.stdin ?? "",
      timeoutMs: 30_000
    }
  )

/**
 * Checks a command an installer wrote (argv, or a shell line) is exactly this
 * node and the built dispatcher, then `rest`: no tsx loader flag, no
 * TypeScript source, nothing relative.
 */
export const expectFastCommand = (
  written: ReadonlyArray<string> | string,
  dispatcher: string,
  rest: ReadonlyArray<string>
) => {
  const line = typeof written === "string" ? written : written.join(" ")
  expect(line).not.toMatch(/tsx|--import|--require|--loader|\.[cm]?ts\b/)
  expect(line).toBe([process.execPath, dispatcher, ...rest].join(" "))
}

/** Any existing file stands in for the bundle where opencode does not run. */
export const fakePlugin = async (sandbox: Sandbox) => {
  const file = join(sandbox.root, "plugin", "tollgate-opencode.js")
  await mkdir(join(sandbox.root, "plugin"), { recursive: true })
  await writeFile(file, "export default {}\n")
  return file
}

/** What a test of the real opencode needs: the simulator, an opencode home logged in to it through auth.json (no plugin configured), and the bundled plugin. */
export interface OpenCodeWorld {
  readonly sim: Simulator.Simulator
  readonly home: OpenCodeHome
  /** The plugin's entry module, bundled by `build.mjs`'s `bundle()` into a temp directory. */
  readonly plugin: string
}

/**
 * Sets up an {@link OpenCodeWorld} (the simulator alive `ttlMs`, the bundle in a
 * temp directory named with `prefix`), runs `body` in it, and removes it all.
 */
export const withOpenCodeWorld = async (
  prefix: string,
  ttlMs: number,
  body: (world: OpenCodeWorld) => Promise<void>
): Promise<void> => {
  const dist = await mkdtemp(join(tmpdir(), prefix))
  const sim = await Simulator.start({ ttlMs })
  const home = await makeOpenCodeHome({
    baseURL: `${sim.url}/v1`,
    env: { TOLLGATE_API_BASE_URL: sim.url, TOLLGATE_OAUTH_BASE_URL: sim.url },
    auth: anthropicOAuth(sim.account)
  })
  try {
    const plugin = join(dist, "tollgate-opencode.js")
    await bundle(plugin)
    await body({ sim, home, plugin })
  } finally {
    await sim.close()
    await home.cleanup()
    await rm(dist, { recursive: true, force: true })
  }
}

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
  // biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern here
  sandbox: async ({}, use) => {
    const sandbox = await makeSandbox()
    await use(sandbox)
    await sandbox.cleanup()
  }
})
