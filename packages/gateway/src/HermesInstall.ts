/**
 * `tollgate hermes install` / `uninstall` as plain steps over Hermes's home:
 * plan every edit first (a file that does not parse refuses the whole
 * install, nothing written), then a timestamped backup beside each file that
 * changes and an atomic write that keeps its mode (`.env` is made 0600: it
 * now holds the gateway key). `install.json` in the plugin's directory
 * records what each file held before, so uninstall restores the backup when
 * the file is still as install left it, and otherwise removes exactly what
 * install added.
 *
 * Lives with the gateway (Hermes reaches the login through it and `tollgate
 * token`); the CLI's `tollgate hermes` only parses arguments and prints.
 *
 * @since 0.2.0
 */
import { AtomicFile } from "@tollgate/files"
import * as Either from "effect/Either"
import { createHash } from "node:crypto"
import { chmod, copyFile, lstat, mkdir, readFile, realpath, rm, rmdir, stat, unlink } from "node:fs/promises"
import { dirname, join } from "node:path"
import * as HermesConfig from "./HermesConfig.js"
import * as HermesPlugin from "./HermesPlugin.js"

/** An install or uninstall that cannot go ahead; nothing was written. @since 0.2.0 */
export class Refused extends Error {
  readonly _tag = "Refused"
}

type FileKind = "config" | "env" | "auth"

/** One edited file in `install.json`. */
interface FileRecord {
  readonly path: string
  readonly existed: boolean
  readonly backup: string | null
  /** The file's mode before install (`.env` is made 0600), restored with the backup. */
  readonly mode: number | null
  /** sha256 of what install wrote (or found, when it changed nothing). */
  readonly written: string
  readonly previous: unknown
}

/** `install.json`. */
interface Record_ {
  readonly version: 1
  readonly baseUrl: string
  readonly files: { readonly [K in FileKind]?: FileRecord }
}

/** Where Hermes keeps its files: `--hermes-home`, else `$HERMES_HOME`, else `~/.hermes` (Hermes's `get_hermes_home`). @since 0.2.0 */
export const hermesHome = (env: Readonly<Record<string, string | undefined>>, option?: string): string => {
  if (option !== undefined && option.trim() !== "") return option
  const fromEnv = env["HERMES_HOME"]?.trim()
  if (fromEnv) return fromEnv
  return join(env["HOME"] ?? "/", ".hermes")
}

/** The paths of one Hermes home. @since 0.2.0 */
export const paths = (home: string) => {
  const plugin = join(home, "plugins", HermesConfig.PLUGIN)
  return {
    home,
    config: join(home, "config.yaml"),
    env: join(home, ".env"),
    auth: join(home, "auth.json"),
    plugin,
    file: (name: keyof typeof HermesPlugin.FILES) => join(plugin, HermesPlugin.FILES[name])
  }
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex")

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code

interface Found {
  readonly path: string
  /** The symlink's target when there is one, so it is written through rather than replaced. */
  readonly real: string
  readonly text: string | null
  readonly mode: number | null
}

const readFound = async (path: string): Promise<Found> => {
  try {
    const real = await realpath(path)
    const info = await stat(real)
    if (!info.isFile()) throw new Refused(`${path} is not a regular file`)
    return { path, real, text: await readFile(real, "utf8"), mode: info.mode & 0o777 }
  } catch (error) {
    if (errno(error) === "ENOENT") {
      // A dangling symlink is not "no file": writing would replace the link.
      const link = await lstat(path).catch(() => null)
      if (link !== null) throw new Refused(`${path} is a symlink to a missing file`)
      return { path, real: path, text: null, mode: null }
    }
    throw error
  }
}

const stamp = (now: number): string => new Date(now).toISOString().replace(/[:.]/g, "-")

/** Backs up `found` (when it exists) and atomically writes `text` with `mode`; returns the backup. */
const writeWithBackup = async (found: Found, text: string, mode: number, now: number): Promise<string | null> => {
  let backup: string | null = null
  if (found.text !== null) {
    backup = `${found.path}.bak-${stamp(now)}`
    await copyFile(found.real, backup)
    // Never looser than the file it backs up, nor than the new file (.env now holds a key).
    await chmod(backup, (found.mode ?? 0o600) & mode & 0o777)
  } else {
    await mkdir(dirname(found.path), { recursive: true, mode: 0o700 })
  }
  await AtomicFile.write(found.real, text, { mode, durable: true })
  return backup
}

const readRecord = async (file: string): Promise<Record_ | null> => {
  const text = await readFile(file, "utf8").catch((error) => (errno(error) === "ENOENT" ? null : Promise.reject(error)))
  if (text === null) return null
  try {
    const record = JSON.parse(text) as Record_
    if (record.version !== 1 || typeof record.files !== "object") throw new Error("shape")
    return record
  } catch {
    throw new Refused(`${file} is not tollgate's install record; remove it and the plugin directory by hand`)
  }
}

const refuseIf = <A>(either: Either.Either<A, string>, path: string, verb: string): A => {
  if (Either.isLeft(either)) throw new Refused(`not ${verb} ${path}: ${either.left}; fix or move it and run this again`)
  return either.right
}

/** What install needs from its caller. @since 0.2.0 */
export interface InstallOptions {
  readonly home: string
  readonly port: number
  /** The gateway key, or `null` on a dry run when none exists yet. */
  readonly key: string | null
  readonly keyFile: string
  /** `[node, ...loader flags, entry]` that runs this tollgate. */
  readonly command: ReadonlyArray<string>
  readonly dryRun: boolean
  readonly now: number
  readonly log: (line: string) => void
}

const show = (value: string | null): string => (value === null ? "(none)" : value)

/** Points Hermes at the gateway and installs the plugin. Throws {@link Refused}. @since 0.2.0 */
export const install = async (options: InstallOptions): Promise<void> => {
  const { log } = options
  const p = paths(options.home)
  const url = HermesConfig.baseUrl(options.port)
  const prior = await readRecord(p.file("install"))

  const found = { config: await readFound(p.config), env: await readFound(p.env), auth: await readFound(p.auth) }
  const config = refuseIf(HermesConfig.planConfig(found.config.text, url), p.config, "changing")
  const auth = refuseIf(HermesConfig.planAuth(found.auth.text), p.auth, "changing")
  // On a dry run without a key yet, a stand-in of the same shape: only "would change" is reported.
  const env = HermesConfig.planEnv(found.env.text, options.key ?? "tollgate-gw-(new key)")
  const envMode = 0o600

  const plugin: Array<[string, string]> = [
    [p.file("manifest"), HermesPlugin.MANIFEST],
    [p.file("code"), HermesPlugin.CODE],
    [p.file("config"), HermesPlugin.config(options.command)]
  ]
  const pluginCurrent = await Promise.all(plugin.map(([file]) => readFile(file, "utf8").catch(() => null)))
  const pluginChanged = plugin.some(([, text], i) => pluginCurrent[i] !== text)

  const verb = (changes: boolean, exists: boolean) =>
    !changes
      ? "unchanged"
      : options.dryRun
        ? exists
          ? "would change"
          : "would create"
        : exists
          ? "changed"
          : "created"
  const prev = config.previous
  log(`Hermes home: ${options.home}`)
  log(`${p.config}: ${verb(config.text !== null, found.config.text !== null)}`)
  log(`  model.provider: ${show(prev.provider)} -> anthropic`)
  log(`  model.base_url: ${show(prev.baseUrl)} -> ${url}`)
  log(`  plugins.enabled: ${prev.pluginEnabled ? "lists" : "add"} ${HermesConfig.PLUGIN}`)
  const envChanges = env.text !== null || (found.env.mode !== null && found.env.mode !== envMode)
  log(`${p.env}: ${verb(envChanges, found.env.text !== null)} (mode 0600)`)
  log(
    `  ${HermesConfig.ENV_VAR}: ${env.previous.hadVar ? "replaced by" : "set to"} the gateway key (${options.key === null ? `a new one, created in ${options.keyFile}` : options.keyFile})`
  )
  log(`${p.auth}: ${verb(auth.text !== null, found.auth.text !== null)}`)
  log(
    `  suppressed_sources.${HermesConfig.SUPPRESSED.provider}: ${auth.previous.listed ? "lists" : "add"} ${HermesConfig.SUPPRESSED.source}`
  )
  log(
    `${p.plugin}/: ${verb(
      pluginChanged,
      pluginCurrent.some((t) => t !== null)
    )} (plugin.yaml, __init__.py, config.json)`
  )
  log(`  runs: ${options.command.join(" ")} token --json [--if-token FINGERPRINT]`)
  if (options.dryRun) {
    log("Dry run: nothing written.")
    return
  }
  if (options.key === null) throw new Refused("no gateway key")

  const record = (
    kind: FileKind,
    f: Found,
    text: string | null,
    backup: string | null,
    previous: unknown
  ): FileRecord => {
    const earlier = prior?.files[kind]
    const written = sha(text ?? f.text ?? "")
    // The first install's record is what the file held before tollgate; later installs only move `written`.
    return earlier !== undefined
      ? { ...earlier, written }
      : { path: f.path, existed: f.text !== null, backup, mode: f.mode, written, previous }
  }

  await mkdir(p.plugin, { recursive: true, mode: 0o700 })
  for (const [file, text] of plugin) await AtomicFile.write(file, text, { mode: 0o644, durable: true })

  const write = async (f: Found, text: string | null, newMode: number, forceMode?: number) => {
    if (text === null) {
      if (forceMode !== undefined && f.text !== null && f.mode !== forceMode) await chmod(f.real, forceMode)
      return null
    }
    const backup = await writeWithBackup(f, text, forceMode ?? f.mode ?? newMode, options.now)
    if (backup !== null) log(`Backup: ${backup}`)
    return backup
  }
  const files: { [K in FileKind]: FileRecord } = {
    auth: record("auth", found.auth, auth.text, await write(found.auth, auth.text, 0o600), auth.previous),
    env: record("env", found.env, env.text, await write(found.env, env.text, envMode, envMode), env.previous),
    config: record("config", found.config, config.text, await write(found.config, config.text, 0o644), config.previous)
  }
  const next: Record_ = { version: 1, baseUrl: url, files }
  await AtomicFile.write(p.file("install"), `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, durable: true })
  log(
    config.text === null && env.text === null && auth.text === null && !pluginChanged
      ? "Already installed; nothing to change."
      : `Installed: Hermes uses the tollgate gateway at ${url} from its next start (\`tollgate gateway\` must be running).`
  )
}

/** What uninstall needs from its caller. @since 0.2.0 */
export interface UninstallOptions {
  readonly home: string
  readonly dryRun: boolean
  readonly now: number
  readonly log: (line: string) => void
}

const revert = async (kind: FileKind, rec: FileRecord, baseUrl: string, current: string): Promise<string | null> => {
  switch (kind) {
    case "config":
      return refuseIf(
        HermesConfig.revertConfig(current, baseUrl, rec.previous as HermesConfig.ConfigPrevious),
        rec.path,
        "restoring"
      )
    case "auth":
      return refuseIf(
        HermesConfig.revertAuth(current, rec.previous as HermesConfig.AuthPrevious),
        rec.path,
        "restoring"
      )
    case "env": {
      const key = /^ANTHROPIC_TOKEN=(tollgate-gw-[A-Za-z0-9_-]+)$/m.exec(current)?.[1]
      if (key === undefined) return null
      const backup = rec.backup === null ? null : await readFile(rec.backup, "utf8").catch(() => null)
      return HermesConfig.revertEnv(current, key, backup)
    }
  }
}

/** Restores Hermes's files and removes the plugin. Throws {@link Refused}. @since 0.2.0 */
export const uninstall = async (options: UninstallOptions): Promise<void> => {
  const { log, dryRun } = options
  const p = paths(options.home)
  const rec = await readRecord(p.file("install"))
  const pluginThere = await stat(p.plugin).then(
    () => true,
    () => false
  )
  if (rec === null && !pluginThere) {
    log(`Not installed: there is no ${p.plugin}.`)
    return
  }
  const would = (done: string, planned: string) => (dryRun ? planned : done)
  for (const kind of ["config", "env", "auth"] as const) {
    const file = rec?.files[kind]
    if (file === undefined) continue
    const found = await readFound(file.path)
    if (found.text === null) {
      log(`${file.path}: gone; nothing to restore`)
      continue
    }
    if (sha(found.text) === file.written) {
      if (!file.existed) {
        if (!dryRun) await unlink(file.path)
        log(`${file.path}: ${would("removed", "would be removed")} (install created it)`)
        continue
      }
      const backup = file.backup === null ? null : await readFile(file.backup, "utf8").catch(() => null)
      if (file.backup === null) {
        log(`${file.path}: install did not change it`)
        continue
      }
      if (backup !== null) {
        if (!dryRun)
          await AtomicFile.write(found.real, backup, { mode: file.mode ?? found.mode ?? 0o600, durable: true })
        log(`${file.path}: ${would("restored from", "would be restored from")} ${file.backup}`)
        continue
      }
    }
    // Changed since install (Hermes rewrites auth.json and config.yaml), or the backup is gone: take out only what install put in.
    const text = await revert(kind, file, rec!.baseUrl, found.text)
    if (text === null) {
      log(`${file.path}: nothing of tollgate's left`)
      continue
    }
    if (!dryRun) {
      const backup = await writeWithBackup(found, text, found.mode ?? 0o600, options.now)
      if (backup !== null) log(`Backup: ${backup}`)
    }
    log(
      `${file.path}: ${would("tollgate's settings removed", "tollgate's settings would be removed")} (changed since install, so not restored from the backup)`
    )
  }
  if (!dryRun) {
    for (const name of Object.keys(HermesPlugin.FILES) as Array<keyof typeof HermesPlugin.FILES>) {
      await rm(p.file(name), { force: true })
    }
    await rm(join(p.plugin, "__pycache__"), { recursive: true, force: true })
    await rm(join(p.plugin, ".state.json.tmp"), { force: true })
    await rmdir(p.plugin).catch((error) => {
      if (errno(error) === "ENOTEMPTY") log(`${p.plugin}: left in place, it holds files that are not tollgate's`)
      else if (errno(error) !== "ENOENT") throw error
    })
  }
  log(`${p.plugin}/: ${would("removed", "would be removed")}`)
  log(dryRun ? "Dry run: nothing written." : "Uninstalled. The gateway key is kept (other clients may use it).")
}
