/**
 * The files that make the daemon a per-user service: a systemd user unit on
 * Linux and a launchd agent on macOS. Pure text generators; the CLI writes
 * them.
 *
 * @since 0.1.0
 */
import { join } from "node:path"
import * as Xdg from "@tollgate/files/Xdg"

/** The platforms with a service manager we know. @since 0.1.0 */
export type Platform = "linux" | "darwin"

/** The systemd unit's name. @since 0.1.0 */
export const SYSTEMD_UNIT = "tollgate-daemon.service"

/** The launchd agent's label. @since 0.1.0 */
export const LAUNCHD_LABEL = "dev.tollgate.daemon"

/**
 * One tollgate service: its names for systemd and launchd and the tollgate
 * subcommand it runs.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly systemdUnit: string
  readonly launchdLabel: string
  readonly description: string
  /** The tollgate arguments, e.g. `["daemon", "run"]`. */
  readonly command: ReadonlyArray<string>
  /** The launchd agent's log file name under `~/Library/Logs/tollgate/`. */
  readonly logName: string
}

/** The usage daemon. @since 0.1.0 */
export const DAEMON: Service = {
  systemdUnit: SYSTEMD_UNIT,
  launchdLabel: LAUNCHD_LABEL,
  description: "tollgate usage daemon",
  command: ["daemon", "run"],
  logName: "daemon.log"
}

/** The local Anthropic API gateway. @since 0.1.0 */
export const GATEWAY: Service = {
  systemdUnit: "tollgate-gateway.service",
  launchdLabel: "dev.tollgate.gateway",
  description: "tollgate Anthropic API gateway",
  command: ["gateway", "run"],
  logName: "gateway.log"
}

/** What a unit file runs: the service, the node binary and tollgate entry, and its environment. @since 0.1.0 */
export interface Options {
  /** Which service; default {@link DAEMON}. */
  readonly service?: Service | undefined
  /** Absolute path of the node binary (`process.execPath`). */
  readonly execPath: string
  /** Absolute path of the tollgate entry (`process.argv[1]`). */
  readonly cliPath: string
  /** Node flags the entry needs, e.g. a TypeScript loader when run from source. */
  readonly nodeArgs?: ReadonlyArray<string> | undefined
  /** Extra environment for the daemon. Never put secrets here: the file is not private. */
  readonly env?: Readonly<Record<string, string>> | undefined
}

/** What the service runs: `<node> [nodeArgs] <cli> daemon run` (the service's command). @since 0.1.0 */
export const programArguments = (options: Options): ReadonlyArray<string> => {
  for (const path of [options.execPath, options.cliPath]) {
    if (!path.startsWith("/")) throw new Error(`a service needs absolute paths, got "${path}"`)
  }
  return [options.execPath, ...(options.nodeArgs ?? []), options.cliPath, ...(options.service ?? DAEMON).command]
}

const noLineBreaks = (value: string): string => {
  if (/[\r\n\0]/.test(value)) throw new Error("a service file value cannot contain line breaks or NUL")
  return value
}

const checkedEnv = (env: Readonly<Record<string, string>> | undefined): Array<[string, string]> =>
  Object.entries(env ?? {}).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`"${key}" is not an environment variable name`)
    return [key, noLineBreaks(value)]
  })

/**
 * One word of a systemd command line: `%` specifiers and `$` expansion are
 * escaped everywhere; words with spaces, quotes or backslashes are
 * double-quoted with C-style escapes (systemd.service, "Command lines").
 *
 * @since 0.1.0
 */
export const systemdWord = (word: string): string => {
  const escaped = noLineBreaks(word)
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/%/g, "%%")
    .replace(/\$/g, () => "$$")
  return word === "" || /[\s"'\\;]/.test(word) ? `"${escaped}"` : escaped
}

// Environment= has specifiers but no `$` expansion.
const systemdAssignment = (key: string, value: string): string =>
  `"${`${key}=${value}`.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`

/**
 * A systemd **user** unit. The hardening is the part that works without
 * privileges (seccomp-based, enabled by `NoNewPrivileges`); the
 * namespace-based options need user namespaces in a user manager, and
 * `MemoryDenyWriteExecute` would break V8's JIT.
 *
 * @since 0.1.0
 */
export const systemdUnit = (options: Options): string =>
  [
    "[Unit]",
    `Description=${noLineBreaks((options.service ?? DAEMON).description)}`,
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${programArguments(options).map(systemdWord).join(" ")}`,
    ...checkedEnv(options.env).map(([key, value]) => `Environment=${systemdAssignment(key, value)}`),
    "Restart=on-failure",
    "RestartSec=5",
    "UMask=0077",
    "NoNewPrivileges=yes",
    "LockPersonality=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "SystemCallArchitectures=native",
    "",
    "[Install]",
    "WantedBy=default.target",
    ""
  ].join("\n")

const xml = (text: string): string => {
  // XML 1.0 has no escape for most control characters: refuse rather than write a file launchd rejects.
  if (/[\0-\x08\x0b\x0c\x0e-\x1f]/.test(text)) throw new Error("a plist string cannot contain control characters")
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
}

/** Where the launchd agent's stderr goes. @since 0.1.0 */
export const launchdLogPath = (home: string, service: Service = DAEMON): string =>
  join(home, "Library", "Logs", "tollgate", service.logName)

/**
 * A launchd agent: started at login, restarted only after a failure (a
 * SIGTERM'd daemon exits 0 and stays stopped), stderr to
 * {@link launchdLogPath}, whose directory the installer creates.
 *
 * @since 0.1.0
 */
export const launchdPlist = (options: Options & { readonly home: string }): string => {
  const env = checkedEnv(options.env)
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<plist version="1.0">`,
    `<dict>`,
    `  <key>Label</key>`,
    `  <string>${xml((options.service ?? DAEMON).launchdLabel)}</string>`,
    `  <key>ProgramArguments</key>`,
    `  <array>`,
    ...programArguments(options).map((arg) => `    <string>${xml(arg)}</string>`),
    `  </array>`,
    ...(env.length === 0
      ? []
      : [
          `  <key>EnvironmentVariables</key>`,
          `  <dict>`,
          ...env.flatMap(([k, v]) => [`    <key>${xml(k)}</key>`, `    <string>${xml(v)}</string>`]),
          `  </dict>`
        ]),
    `  <key>RunAtLoad</key>`,
    `  <true/>`,
    `  <key>KeepAlive</key>`,
    `  <dict>`,
    `    <key>SuccessfulExit</key>`,
    `    <false/>`,
    `  </dict>`,
    `  <key>ThrottleInterval</key>`,
    `  <integer>5</integer>`,
    `  <key>ProcessType</key>`,
    `  <string>Background</string>`,
    `  <key>Umask</key>`,
    `  <integer>63</integer>`,
    `  <key>StandardErrorPath</key>`,
    `  <string>${xml(launchdLogPath(options.home, options.service ?? DAEMON))}</string>`,
    `</dict>`,
    `</plist>`,
    ``
  ].join("\n")
}

/**
 * Where the service file goes: `$XDG_CONFIG_HOME/systemd/user/` (default
 * `~/.config`) on Linux, `~/Library/LaunchAgents/` on macOS.
 *
 * @since 0.1.0
 */
export const unitPath = (
  platform: Platform,
  env: Readonly<Record<string, string | undefined>> = process.env,
  service: Service = DAEMON
): string => {
  const home = env["HOME"]
  if (home === undefined || home === "") throw new Error("HOME is not set")
  if (platform === "darwin") return join(home, "Library", "LaunchAgents", `${service.launchdLabel}.plist`)
  return join(Xdg.base("XDG_CONFIG_HOME", env), "systemd", "user", service.systemdUnit)
}
