/**
 * Installing a tollgate program (the daemon, the gateway) as a per-user
 * service, everything but the printing: which variables the service gets,
 * the unit file written atomically and only when it changed, the systemd
 * `wants` link removed with it, and the service-manager commands that start
 * and stop it. `tollgate daemon|gateway install|uninstall` is these steps
 * plus its options and its output.
 *
 * @since 0.2.0
 */
import { constants } from "node:fs"
import { access, lstat, mkdir, readFile, readlink, rm } from "node:fs/promises"
import { delimiter, dirname, join, resolve } from "node:path"
import { AtomicFile } from "@tollgate/files"
import * as ServiceUnit from "./ServiceUnit.js"

/** A command line for the service manager: the tool, then its arguments. @since 0.2.0 */
export type Argv = readonly [string, ...Array<string>]

/**
 * The environment a service gets: the named variables where `env` sets them,
 * plus `XDG_RUNTIME_DIR` on macOS (launchd sets none; systemd sets its own). A
 * service manager's environment lacks the shell's, and the service must find
 * the same paths as the programs that talk to it. Paths only, never secrets.
 *
 * @since 0.2.0
 */
export const serviceEnv = (
  names: ReadonlyArray<string>,
  platform: ServiceUnit.Platform,
  env: Readonly<Record<string, string | undefined>>
): Record<string, string> =>
  Object.fromEntries(
    [...names, ...(platform === "darwin" ? ["XDG_RUNTIME_DIR"] : [])].flatMap((name) => {
      const value = env[name]
      return value ? [[name, value]] : []
    })
  )

/**
 * The unit file's text for `platform`: a systemd user unit, or a launchd
 * agent (which needs `home` for its log path). Throws on a value that cannot
 * be written into the file safely (see ServiceUnit).
 *
 * @since 0.2.0
 */
export const render = (platform: ServiceUnit.Platform, unit: ServiceUnit.Options, home: string): string =>
  platform === "linux" ? ServiceUnit.systemdUnit(unit) : ServiceUnit.launchdPlist({ ...unit, home })

/**
 * The commands that (re)start the installed service: systemd reloads and
 * enables it, launchd bootstraps the agent file in the user's GUI domain.
 *
 * @since 0.2.0
 */
export const startCommands = (
  platform: ServiceUnit.Platform,
  file: string,
  service: ServiceUnit.Service,
  uid: number
): Array<Argv> =>
  platform === "linux"
    ? [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", service.systemdUnit]
      ]
    : [["launchctl", "bootstrap", `gui/${uid}`, file]]

/**
 * The commands that stop the service and keep it from starting at login.
 *
 * @since 0.2.0
 */
export const stopCommands = (platform: ServiceUnit.Platform, service: ServiceUnit.Service, uid: number): Array<Argv> =>
  platform === "linux"
    ? [["systemctl", "--user", "disable", "--now", service.systemdUnit]]
    : [["launchctl", "bootout", `gui/${uid}/${service.launchdLabel}`]]

/**
 * Commands as one line a user can paste into a POSIX shell, each word quoted
 * when it needs to be, joined with `&&`.
 *
 * @since 0.2.0
 */
export const shellLine = (commands: ReadonlyArray<ReadonlyArray<string>>): string =>
  commands
    .map((c) => c.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(" "))
    .join(" && ")

/**
 * Writes `text` to the unit file `file` unless it already holds exactly
 * that: aside under a random O_EXCL|O_NOFOLLOW name and renamed (AtomicFile),
 * so a service manager never reads half a file and no planted name or link
 * at the unit's path is written through. On macOS the agent's log directory
 * is made too. Rejects with the errno code when the file cannot be written.
 *
 * @since 0.2.0
 */
export const writeUnit = async (options: {
  readonly file: string
  readonly text: string
  readonly platform: ServiceUnit.Platform
  readonly home: string
  readonly service: ServiceUnit.Service
}): Promise<"unchanged" | "written" | "updated"> => {
  const { file, text, platform, home, service } = options
  const before = await readFile(file, "utf8").catch(() => null)
  if (before === text) return "unchanged"
  await mkdir(dirname(file), { recursive: true })
  if (platform === "darwin") await mkdir(dirname(ServiceUnit.launchdLogPath(home, service)), { recursive: true })
  await AtomicFile.write(file, text, { mode: 0o644, durable: true })
  return before === null ? "written" : "updated"
}

/**
 * What uninstalling removes: the unit file and, on Linux, the link
 * `systemctl enable` made to it in `default.target.wants` (only when it points
 * at this file). `null` when the unit file does not exist.
 *
 * @since 0.2.0
 */
export interface Removal {
  readonly file: string
  readonly wants: string | null
}

/**
 * Finds what uninstalling `file` removes, without removing anything, so the
 * caller can stop the service first and report what went.
 *
 * @since 0.2.0
 */
export const removal = async (
  platform: ServiceUnit.Platform,
  file: string,
  service: ServiceUnit.Service
): Promise<Removal | null> => {
  if ((await lstat(file).catch(() => null)) === null) return null
  if (platform !== "linux") return { file, wants: null }
  const wants = join(dirname(file), "default.target.wants", service.systemdUnit)
  const target = await readlink(wants).catch(() => null)
  return { file, wants: target !== null && resolve(dirname(wants), target) === file ? wants : null }
}

/** Removes what {@link removal} found. @since 0.2.0 */
export const remove = async (plan: Removal): Promise<void> => {
  await rm(plan.file, { force: true })
  if (plan.wants !== null) await rm(plan.wants, { force: true })
}

/**
 * Whether `tool` is an executable in one of `path`'s directories, so `--now`
 * runs it rather than failing on a machine without that service manager.
 *
 * @since 0.2.0
 */
export const onPath = async (tool: string, path: string | undefined): Promise<boolean> => {
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue
    if (
      await access(join(dir, tool), constants.X_OK).then(
        () => true,
        () => false
      )
    )
      return true
  }
  return false
}
