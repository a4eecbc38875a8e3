/**
 * Where Claude Code keeps its login: `$CLAUDE_SECURESTORAGE_CONFIG_DIR`, else
 * `$CLAUDE_CONFIG_DIR`, else `~/.claude`, file `.credentials.json`; on macOS
 * the same document in the Keychain under service `Claude Code-credentials`
 * (suffixed with `-` and 8 hex chars of sha256(config dir) when
 * `CLAUDE_CONFIG_DIR` is set), account `$USER`.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as path from "node:path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * Where Claude Code keeps its login on this machine: the config dir and file,
 * and the Keychain item's service and account. Every store and lock is opened
 * from one.
 *
 * @since 0.1.0
 */
export interface Location {
  /** The directory holding `.credentials.json` and Claude Code's lock directories. */
  readonly configDir: string
  /** `<configDir>/.credentials.json`. */
  readonly file: string
  readonly keychainService: string
  readonly keychainAccount: string
  /** Which variable chose the directory. */
  readonly chosenBy: "CLAUDE_SECURESTORAGE_CONFIG_DIR" | "CLAUDE_CONFIG_DIR" | "HOME"
}

/** The credentials file's name inside the config dir. @since 0.1.0 */
export const FILE_NAME = ".credentials.json"

/** The Keychain item's service name when `CLAUDE_CONFIG_DIR` is not set (else it gets a suffix). @since 0.1.0 */
export const KEYCHAIN_SERVICE = "Claude Code-credentials"

/** The environment a location is resolved from. @since 0.1.0 */
export interface Environment {
  readonly CLAUDE_SECURESTORAGE_CONFIG_DIR?: string | undefined
  readonly CLAUDE_CONFIG_DIR?: string | undefined
  readonly HOME: string
  readonly USER?: string | undefined
}

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== ""

/**
 * Resolves the location from an environment.
 *
 * @since 0.1.0
 */
export const resolve = (env: Environment): Location => {
  const [dir, chosenBy] = set(env.CLAUDE_SECURESTORAGE_CONFIG_DIR)
    ? ([env.CLAUDE_SECURESTORAGE_CONFIG_DIR, "CLAUDE_SECURESTORAGE_CONFIG_DIR"] as const)
    : set(env.CLAUDE_CONFIG_DIR)
      ? ([env.CLAUDE_CONFIG_DIR, "CLAUDE_CONFIG_DIR"] as const)
      : ([path.join(env.HOME, ".claude"), "HOME"] as const)
  const configDir = path.resolve(dir)
  const suffix = set(env.CLAUDE_CONFIG_DIR)
    ? `-${createHash("sha256").update(path.resolve(env.CLAUDE_CONFIG_DIR)).digest("hex").slice(0, 8)}`
    : ""
  return {
    configDir,
    file: path.join(configDir, FILE_NAME),
    keychainService: `${KEYCHAIN_SERVICE}${suffix}`,
    keychainAccount: env.USER ?? "",
    chosenBy
  }
}

const optional = (name: string) => Config.option(Config.string(name)).pipe(Config.map(Option.getOrUndefined))

/**
 * Resolves the location from the `ConfigProvider` (the process environment by default).
 *
 * @since 0.1.0
 */
export const fromConfig = Effect.gen(function* () {
  return resolve({
    CLAUDE_SECURESTORAGE_CONFIG_DIR: yield* optional("CLAUDE_SECURESTORAGE_CONFIG_DIR"),
    CLAUDE_CONFIG_DIR: yield* optional("CLAUDE_CONFIG_DIR"),
    HOME: yield* Config.string("HOME"),
    USER: yield* optional("USER")
  })
})
