/**
 * The setup every real-opencode test file shares: the plugin bundled as
 * `build.mjs` ships it, the simulator, a throwaway opencode home pointed at it,
 * and cleanup after each test. Not a test file (vitest collects `*.test.ts`
 * only); call the functions that register hooks at the top level of a test file.
 */
import type { SpawnOptionsWithStdioTuple, StdioNull, StdioPipe } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  findOpenCodeBinary,
  makeOpenCodeHome,
  type OpenCodeHome,
  type OpenCodeHomeOptions,
  opencodeRun,
  type RunOptions,
  type RunResult
} from "@tollgate/conformance/OpenCode"
import * as Simulator from "@tollgate/conformance/Simulator"
import type { Metafile } from "esbuild"
import { afterAll, afterEach, beforeAll, expect } from "vitest"
import { bundle } from "../../build.mjs"

/** What the simulator's messages endpoint answers. */
export const REPLY = "Hello from the tollgate simulator."

/** The real opencode binary (the `opencode-ai` dev dependency, or one installed under /tmp/oc). */
export const binary = findOpenCodeBinary({ installDirs: ["/tmp/oc"] })

/** opencode-ai is a dev dependency installed with the project: a missing binary is a failure, not a skip. */
export const expectBinaryInstalled = () =>
  expect(binary, "opencode-ai should be installed by pnpm install").toBeDefined()

/** The plugin bundled once for a test file; read its fields inside tests (they are set by `beforeAll`). */
export interface BundledPlugin {
  /** The temp directory holding the entry and its chunks. */
  readonly dir: string
  /** The entry module opencode loads (`<dir>/tollgate-opencode.js`). */
  readonly file: string
  readonly metafile: Metafile
}

/**
 * Bundles the plugin with `build.mjs`'s `bundle()` into a fresh temp directory
 * (named with `prefix`) before the file's tests, and removes it after them.
 */
export const bundlePluginForFile = (prefix: string, timeoutMs?: number): BundledPlugin => {
  const state = { dir: "", file: "", metafile: undefined as Metafile | undefined }
  beforeAll(async () => {
    state.dir = await mkdtemp(join(tmpdir(), prefix))
    state.file = join(state.dir, "tollgate-opencode.js")
    state.metafile = (await bundle(state.file)).metafile
  }, timeoutMs)
  afterAll(() => rm(state.dir, { recursive: true, force: true }))
  return {
    get dir() {
      return state.dir
    },
    get file() {
      return state.file
    },
    get metafile() {
      return state.metafile!
    }
  }
}

/** Hands a cleanup to run after the current test. */
export type Defer = (cleanup: () => Promise<void>) => void

/** Runs every cleanup deferred during a test after it, the last one first. */
export const cleanupAfterEach = (): Defer => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return (cleanup) => {
    cleanups.push(cleanup)
  }
}

/** The simulator (alive 120 s unless `options.ttlMs` says otherwise), closed after the test. */
export const startSimulator = async (defer: Defer, options: Simulator.Options = {}): Promise<Simulator.Simulator> => {
  const sim = await Simulator.start({ ttlMs: 120_000, ...options })
  defer(() => sim.close())
  return sim
}

/** The home options that send opencode's requests and the plugin's API and OAuth calls to the simulator. */
export const simulatorHomeOptions = (sim: Simulator.Simulator): Pick<OpenCodeHomeOptions, "baseURL" | "env"> => ({
  baseURL: `${sim.url}/v1`,
  env: { TOLLGATE_API_BASE_URL: sim.url, TOLLGATE_OAUTH_BASE_URL: sim.url }
})

/** A throwaway opencode home (HOME, XDG dirs, TMPDIR, project), removed after the test. */
export const makeHome = async (defer: Defer, options: OpenCodeHomeOptions): Promise<OpenCodeHome> => {
  const home = await makeOpenCodeHome(options)
  defer(() => home.cleanup())
  return home
}

/** `opencode run` in `home` with the real binary, bounded by `timeoutMs`: prompt "hi", title "t" unless `options` say otherwise. */
export const runOpencode = (
  home: OpenCodeHome,
  timeoutMs: number,
  options: Partial<Omit<RunOptions, "home" | "timeoutMs">> = {}
): Promise<RunResult> => opencodeRun({ home, prompt: "hi", title: "t", timeoutMs, binary, ...options })

/**
 * `spawn` options for `opencode` run by hand in `home` (its environment, its
 * project) in a process group of its own: `process.kill(-child.pid, signal)`
 * ends it and whatever it started.
 */
export const inOwnGroup = <
  I extends StdioNull | StdioPipe,
  O extends StdioNull | StdioPipe,
  E extends StdioNull | StdioPipe
>(
  home: OpenCodeHome,
  stdio: [I, O, E]
): SpawnOptionsWithStdioTuple<I, O, E> => ({ env: home.env, cwd: home.project, stdio, detached: true })

/** One test file's real-opencode setup: the bundled plugin, and a simulator and homes cleaned up after each test. */
export interface RealOpencode {
  /** The bundled plugin's entry module (set once the file's `beforeAll` ran). */
  readonly plugin: string
  readonly defer: Defer
  /** {@link startSimulator} for this file. */
  readonly startSim: (options?: Simulator.Options) => Promise<Simulator.Simulator>
  /** {@link makeHome} pointed at `sim` ({@link simulatorHomeOptions}); `options` may override any of it. */
  readonly makeSimHome: (sim: Simulator.Simulator, options?: Partial<OpenCodeHomeOptions>) => Promise<OpenCodeHome>
}

/** Registers the file's hooks (bundle before all, cleanups after each, bundle removed after all). */
export const realOpencode = (bundlePrefix: string, bundleTimeoutMs?: number): RealOpencode => {
  const bundled = bundlePluginForFile(bundlePrefix, bundleTimeoutMs)
  const defer = cleanupAfterEach()
  return {
    get plugin() {
      return bundled.file
    },
    defer,
    startSim: (options) => startSimulator(defer, options),
    makeSimHome: (sim, options = {}) => makeHome(defer, { ...simulatorHomeOptions(sim), ...options })
  }
}
