// Child processes for the release test: every one gets a complete, throwaway environment (HOME, XDG_*,
// TMPDIR, npm's cache, userconfig and prefix under the test's temp root) and nothing from the caller's, so
// no real ~/.npmrc, token or CLAUDE_*/OPENCODE_* variable leaks in and nothing lands in the real home.
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"

/** The directories one sandbox home is made of, all under `root`. */
export const sandboxDirs = (root) => ({
  HOME: join(root, "home"),
  XDG_CONFIG_HOME: join(root, "home/.config"),
  XDG_DATA_HOME: join(root, "home/.local/share"),
  XDG_STATE_HOME: join(root, "home/.local/state"),
  XDG_CACHE_HOME: join(root, "home/.cache"),
  XDG_RUNTIME_DIR: join(root, "run"),
  TMPDIR: join(root, "tmp")
})

// Network settings of the machine, not of the user: without the CA bundle a TLS-inspecting network makes
// Verdaccio's uplink (and any online install) fail, which it reports only as "no such package available".
const NETWORK = ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]
export const network = () =>
  Object.fromEntries(
    NETWORK.flatMap((name) => [name, name.toLowerCase()]).flatMap((name) =>
      process.env[name] ? [[name, process.env[name]]] : []
    )
  )

/**
 * The environment of every child: the sandbox dirs, npm's cache/userconfig/prefix inside it, PATH with
 * this Node first (so `node`, `npm`, `pnpm` are the ones running the test), CI=true (no prompts), and the
 * machine's CA bundle and proxy settings.
 */
export const sandboxEnv = (root, extra = {}) => {
  const dirs = sandboxDirs(root)
  return {
    PATH: [dirname(process.execPath), process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(":"),
    ...network(),
    ...dirs,
    NO_COLOR: "1",
    CI: "true",
    npm_config_cache: join(root, "npm-cache"),
    npm_config_userconfig: join(dirs.HOME, ".npmrc"),
    npm_config_prefix: join(root, "prefix"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    TURBO_TELEMETRY_DISABLED: "1",
    DO_NOT_TRACK: "1",
    ...extra
  }
}

/** Replaces every secret in `text` (tokens must never reach the summary). */
export const redact = (text, secrets) => secrets.filter(Boolean).reduce((t, s) => t.split(s).join("<redacted>"), text)

const tail = (text, lines = 25) => text.trimEnd().split("\n").slice(-lines).join("\n")

/** A failed step: what ran, how it ended, and the end of what it printed. */
export class StepError extends Error {
  constructor(message, output = "") {
    super(message)
    this.output = output
  }
}

const live = new Set()
let stopped = false

/** Kills every child still running (its whole process group) and refuses new ones; for the deadline and signals. */
export const killAll = () => {
  stopped = true
  for (const child of live) {
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
}

/** `spawn`, the child killed by {@link killAll}; throws once the test is stopping. */
export const spawnTracked = (command, args, options) => {
  if (stopped) throw new StepError(`not starting ${command}: the test is stopping`)
  const child = spawn(command, args, options)
  live.add(child)
  child.once("close", () => live.delete(child))
  return child
}

/**
 * Runs `command args` in `cwd` with exactly `env`, in its own process group (so a timeout also ends
 * whatever it started), stdin `input` or none. Resolves `{ code, stdout, stderr, ms, timedOut }`.
 */
export const run = (command, args, { cwd, env, input, timeoutMs = 120_000 }) =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawnTracked(command, args, {
      cwd,
      env,
      detached: true,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {
        child.kill("SIGKILL")
      }
    }, timeoutMs)
    child.stdout.setEncoding("utf8").on("data", (c) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c))
    if (input !== undefined) {
      child.stdin.on("error", () => {})
      child.stdin.end(input)
    }
    child.once("error", (error) => {
      clearTimeout(timer)
      live.delete(child)
      reject(new StepError(`${command} could not start: ${error.message}`))
    })
    child.once("close", (code) => {
      clearTimeout(timer)
      live.delete(child)
      resolve({ code, stdout, stderr, ms: performance.now() - started, timedOut })
    })
  })

/** {@link run}, failing the step unless the command exits 0 in time. */
export const runOk = async (label, command, args, options) => {
  const result = await run(command, args, options)
  if (result.timedOut) {
    throw new StepError(
      `${label}: timed out after ${options.timeoutMs ?? 120_000} ms`,
      tail(result.stdout + result.stderr)
    )
  }
  if (result.code !== 0)
    throw new StepError(`${label}: exit ${result.code}`, tail(`${result.stdout}\n${result.stderr}`))
  return result
}

export { tail }
