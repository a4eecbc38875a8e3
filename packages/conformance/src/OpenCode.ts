/**
 * Running the real opencode (1.18.x) as an offline test peer, safely: every
 * run gets a throwaway HOME with all XDG dirs and TMPDIR inside it, a scrubbed
 * environment, stdin closed (or fed exactly what a test says), and a hard
 * timeout that kills the whole process group.
 *
 * What the helpers encode (verified against opencode 1.18.33 on Linux):
 *
 * - At start-up opencode "npm installs" `@opencode-ai/plugin` into every config
 *   dir (`$XDG_CONFIG_HOME/opencode`, `<project>/.opencode`) unless the dir has a
 *   `node_modules/` directory and a `package-lock.json` whose `packages[""]`
 *   lists every dependency name of the dir's `package.json` plus
 *   `@opencode-ai/plugin`. Only the names are compared and `node_modules/` may
 *   be empty, so a seed of two tiny files makes a run need no registry at all.
 *   Without the seed a run with a plugin waits for that install (5–15 s online,
 *   a hang offline).
 * - A `file://` plugin whose default export is `{ id, server }` loads; without
 *   `id` it is skipped ("Path plugin … must export id", in the log only). Plain
 *   exported async functions load too. A plugin that throws on import is
 *   skipped silently: the run then fails with "Anthropic API key is missing".
 * - `opencode run` prints the assistant's text on stdout and everything else
 *   (the `> build · model` banner, errors) on stderr, with ANSI colours
 *   regardless of NO_COLOR; `--format json` prints one JSON event per line.
 * - Each run makes two `/v1/messages` calls (a title on the small model
 *   `claude-haiku-4-5-20251001`, then the prompt) unless `--title` is given.
 *
 * @since 0.1.0
 */
import * as binary from "./internal/opencodeBinary.js"
import * as home from "./internal/opencodeHome.js"
import * as run from "./internal/opencodeRun.js"

/** The opencode release these helpers were verified against. @since 0.1.0 */
export const OPENCODE_VERSION = binary.OPENCODE_VERSION

/** The model a run asks for by default (`provider/model`). @since 0.1.0 */
export const DEFAULT_MODEL = home.DEFAULT_MODEL

// ---------------------------------------------------------------------------
// Finding the binary
// ---------------------------------------------------------------------------

/**
 * Where else to look for an opencode install when neither `OPENCODE_BIN` nor this
 * package's dependency has one.
 *
 * @since 0.1.0
 */
export interface BinaryOptions {
  /**
   * Directories holding an npm/pnpm install of `opencode-ai`
   * (`<dir>/node_modules/opencode-ai`), tried after `OPENCODE_BIN` and this
   * package's own dependency. Example: `["/tmp/oc"]`.
   */
  readonly installDirs?: ReadonlyArray<string>
}

/**
 * The opencode executable, or `undefined` when none is installed. Order:
 * `$OPENCODE_BIN`; `opencode-ai` resolvable from this package (a dev
 * dependency); each of `installDirs`.
 *
 * @since 0.1.0
 */
export const findOpenCodeBinary: (options?: BinaryOptions) => string | undefined = binary.findOpenCodeBinary

/**
 * Like {@link findOpenCodeBinary} but throws when there is none.
 *
 * @since 0.1.0
 */
export const opencodeBinary: (options?: BinaryOptions) => string = binary.opencodeBinary

// ---------------------------------------------------------------------------
// The throwaway home
// ---------------------------------------------------------------------------

/** The `auth.json` entry opencode stores for an OAuth login. @since 0.1.0 */
export interface OAuthEntry {
  readonly type: "oauth"
  readonly refresh: string
  readonly access: string
  /** Epoch ms. */
  readonly expires: number
  readonly accountId?: string
  readonly enterpriseUrl?: string
}

/**
 * `{ anthropic: { type: "oauth", refresh, access, expires } }` from a
 * simulator login (`sim.account`). opencode's schema requires `refresh` to be
 * a string, so a login without one stores `""`.
 *
 * @since 0.1.0
 */
export const anthropicOAuth: (issued: {
  readonly accessToken: string
  readonly refreshToken: string | null
  readonly expiresAt: number
}) => { readonly anthropic: OAuthEntry } = home.anthropicOAuth

/**
 * What `makeOpenCodeHome` seeds: the Anthropic base URL (the simulator), an
 * optional plugin, and the temp-dir prefix.
 *
 * @since 0.1.0
 */
export interface OpenCodeHomeOptions {
  /**
   * The Anthropic base URL opencode's AI SDK uses, e.g. `${sim.url}/v1`. A URL
   * without a path (`sim.url`) gets `/v1` appended.
   */
  readonly baseURL: string
  /** Absolute path of a plugin module (plain ESM, `.js`/`.mjs`/`.ts`). */
  readonly plugin?: string | undefined
  /**
   * How opencode finds the plugin: `"config"` (default) as a `file://` entry in
   * `opencode.json`'s `plugin` list; `"directory"` copied into
   * `<project>/.opencode/plugin/`.
   */
  readonly pluginPlacement?: "config" | "directory" | undefined
  /** Options passed as `server(input, options)`'s second argument (config placement only). */
  readonly pluginOptions?: Readonly<Record<string, unknown>> | undefined
  /** The whole `auth.json` (written mode 0600); omitted: no `auth.json`. See {@link anthropicOAuth}. */
  readonly auth?: Readonly<Record<string, unknown>> | undefined
  /** Default {@link DEFAULT_MODEL}. */
  readonly model?: string | undefined
  /** Extra top-level keys merged into the project's `opencode.json`. */
  readonly config?: Readonly<Record<string, unknown>> | undefined
  /** Extra environment variables for every run in this home. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** mkdtemp prefix. */
  readonly prefix?: string | undefined
}

/**
 * A throwaway opencode home from `makeOpenCodeHome`: its directories and the
 * environment every run in it uses.
 *
 * @since 0.1.0
 */
export interface OpenCodeHome {
  /** The throwaway HOME. */
  readonly home: string
  /** `$HOME/project`: the cwd of every run, holding `opencode.json` and a seeded `.opencode/`. */
  readonly project: string
  /** `$XDG_CONFIG_HOME/opencode` (seeded). */
  readonly configDir: string
  /** `$XDG_DATA_HOME/opencode`: `auth.json`, `log/`, `opencode.db`. */
  readonly dataDir: string
  /** `$XDG_DATA_HOME/opencode/auth.json`. */
  readonly authFile: string
  /** The `plugin` entry written to `opencode.json` or the copied file, when a plugin was given. */
  readonly pluginSpec: string | undefined
  /** A complete environment for the child: nothing else from `process.env` leaks in. */
  readonly env: Readonly<Record<string, string>>
  /** The parsed `auth.json`, or `null` when absent. */
  readAuth(): Promise<Record<string, unknown> | null>
  /** opencode's own log files (`$XDG_DATA_HOME/opencode/log/*.log`), concatenated. */
  readLogs(): Promise<string>
  /** Removes the whole directory. Idempotent. */
  cleanup(): Promise<void>
}

/**
 * Makes `dir` count as "dependencies installed" for opencode: an empty
 * `node_modules/`, and `package.json` + `package-lock.json` naming
 * `@opencode-ai/plugin` (opencode compares names only, never versions or the
 * contents of `node_modules`).
 *
 * @since 0.1.0
 */
export const seedConfigDir: (dir: string) => Promise<void> = home.seedConfigDir

/**
 * Creates a throwaway HOME for opencode: XDG dirs and TMPDIR inside it, both
 * config dirs seeded (no registry needed), a project dir with `opencode.json`
 * pointing the Anthropic provider at `baseURL`, and optionally `auth.json` and
 * a plugin.
 *
 * @since 0.1.0
 */
export const makeOpenCodeHome: (options: OpenCodeHomeOptions) => Promise<OpenCodeHome> = home.makeOpenCodeHome

// ---------------------------------------------------------------------------
// Running it
// ---------------------------------------------------------------------------

/** Outcome of one opencode process. @since 0.1.0 */
export interface OpenCodeResult {
  /** The exit code; -1 when killed (timeout or signal). */
  readonly exitCode: number
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  readonly stdout: string
  readonly stderr: string
  /** stdout then stderr with ANSI escapes removed, for `toContain` checks. */
  readonly text: string
  readonly durationMs: number
}

/** One opencode invocation in a throwaway home: the arguments, stdin, timeout and extra environment. @since 0.1.0 */
export interface SpawnOptions {
  readonly home: Pick<OpenCodeHome, "env" | "project">
  readonly args: ReadonlyArray<string>
  /** Written to stdin, which is then closed; default: stdin is `/dev/null`. */
  readonly input?: string | undefined
  /** Default 60 s; the whole process group is SIGKILLed after it. */
  readonly timeoutMs?: number | undefined
  /** Extra environment on top of `home.env`. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Default {@link opencodeBinary}(). */
  readonly binary?: string | undefined
}

/** Removes ANSI escape sequences. @since 0.1.0 */
export const stripAnsi: (text: string) => string = run.stripAnsi

/**
 * Runs `opencode <args>` in `home.project` with exactly `home.env`.
 *
 * @since 0.1.0
 */
export const opencodeSpawn: (options: SpawnOptions) => Promise<OpenCodeResult> = run.opencodeSpawn

/**
 * An `opencode run` of one prompt: the prompt, an optional fixed title to make it
 * a single request, and the output format.
 *
 * @since 0.1.0
 */
export interface RunOptions extends Omit<SpawnOptions, "args" | "input"> {
  readonly prompt: string
  /**
   * A fixed session title, which skips opencode's title-generation call so the
   * run makes exactly one `/v1/messages` request. Default: none (two requests).
   */
  readonly title?: string | undefined
  /** `json`: one JSON event per stdout line, parsed into `events`. Default `default`. */
  readonly format?: "default" | "json" | undefined
  /** Model override (`provider/model`). */
  readonly model?: string | undefined
  /** More CLI flags, e.g. `["--print-logs", "--log-level", "DEBUG"]` or `["--pure"]`. */
  readonly extraArgs?: ReadonlyArray<string> | undefined
}

/** What `opencodeRun` returns: the process result, plus the parsed events with `format: "json"`. @since 0.1.0 */
export interface RunResult extends OpenCodeResult {
  /** With `format: "json"`: the parsed stdout lines (non-JSON lines skipped). */
  readonly events: ReadonlyArray<Record<string, unknown>>
}

/**
 * `opencode run <prompt>`, stdin closed. On success stdout holds the
 * assistant's text; a failure exits 1 with `Error: <message>` on stderr.
 *
 * @since 0.1.0
 */
export const opencodeRun: (options: RunOptions) => Promise<RunResult> = run.opencodeRun

/**
 * An `opencode auth login` through a plugin's method: the provider, the method
 * label and the text pasted at the prompt.
 *
 * @since 0.1.0
 */
export interface LoginOptions extends Omit<SpawnOptions, "args" | "input"> {
  /** Default `anthropic`. */
  readonly provider?: string | undefined
  /** The plugin method's `label` (`-m`), which skips the method menu. */
  readonly method: string
  /**
   * What the user pastes at "Paste the authorization code here:". Sent with a
   * carriage return (the prompt ignores `\n`); no pty is needed.
   */
  readonly code: string
}

/**
 * `opencode providers login -p <provider> -m <method>` driving a plugin's
 * `{ type: "oauth", method: "code" }` login. Prints "Login successful" (or
 * "Failed to authorize" — still exit 0) and writes `auth.json` on success.
 *
 * @since 0.1.0
 */
export const opencodeLogin: (options: LoginOptions) => Promise<OpenCodeResult> = run.opencodeLogin
