/**
 * Talking to Apple's `security` tool without putting a secret on a command
 * line: one `security -i` process per command, the command on its stdin.
 *
 * Facts about `security -i` this relies on (Apple's SecurityTool `security.c`
 * and `readline.c`):
 * - it reads stdin line by line into a 4096-byte buffer; a longer line is cut
 *   and the rest is run as a second command, and a last line without `\n` is
 *   dropped;
 * - it splits a line on whitespace, honouring `"…"`/`'…'` and backslash
 *   escapes, at most 32 arguments;
 * - it shows no prompt when stdin is not a terminal;
 * - its exit status is the last command's result (an `OSStatus`, so mod 256:
 *   `errSecItemNotFound` -25300 exits 44); an empty line resets it to 0, which
 *   is why exactly one line is sent per process.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { constants } from "node:fs"
import { access, stat } from "node:fs/promises"
import * as path from "node:path"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/**
 * The longest command line sent, newline included. `security -i` keeps 4095
 * bytes of a line; Claude Code caps its own `security -i` writes at 4032.
 */
export const MAX_LINE_BYTES = 4032

/** The most `security` may print on stdout before it is killed (a document is a few KB, hex doubles it). */
export const MAX_OUTPUT_BYTES = 1024 * 1024

/** Stderr is kept only to recognise "not found"; never shown. */
const MAX_STDERR_BYTES = 64 * 1024

/** @internal */
export const DEFAULT_TIMEOUT_MS = 10_000

/** The exit status of `find-generic-password` when there is no such item (`errSecItemNotFound`). */
export const EXIT_NOT_FOUND = 44

/** Why a command line could not be built. */
export type LineError = { readonly _tag: "Unquotable" } | { readonly _tag: "TooLong"; readonly bytes: number }

/**
 * Quotes one argument for `security -i`'s parser. A line break or NUL cannot
 * be carried: the line ends there.
 */
export const quote = (argument: string): Option.Option<string> =>
  /[\n\0]/.test(argument) ? Option.none() : Option.some(`"${argument.replace(/[\\"]/g, (c) => `\\${c}`)}"`)

/**
 * One command line, newline included. `words` are sent as they are (command
 * names, flags, hex); `values` are quoted.
 */
export const commandLine = (
  parts: ReadonlyArray<{ readonly word: string } | { readonly value: string }>
): Either.Either<string, LineError> => {
  const rendered: Array<string> = []
  for (const part of parts) {
    if ("word" in part) {
      rendered.push(part.word)
      continue
    }
    const quoted = quote(part.value)
    if (Option.isNone(quoted)) return Either.left({ _tag: "Unquotable" })
    rendered.push(quoted.value)
  }
  const line = `${rendered.join(" ")}\n`
  const bytes = Buffer.byteLength(line, "utf8")
  return bytes > MAX_LINE_BYTES ? Either.left({ _tag: "TooLong", bytes }) : Either.right(line)
}

/** The UTF-8 bytes of `text` as lowercase hex, the form `add-generic-password -X` takes. */
export const hexOf = (text: string): string => Buffer.from(text, "utf8").toString("hex")

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * The password `find-generic-password -w` printed. `security` prints a
 * password with a byte outside printable ASCII (any non-ASCII character) as
 * hex instead; a document always starts with `{`, so hex that decodes to one
 * is the document.
 */
export const decodePassword = (stdout: Uint8Array): string => {
  const text = Buffer.from(stdout).toString("utf8")
  const trimmed = text.trim()
  if (/^(?:[0-9a-fA-F]{2})+$/.test(trimmed)) {
    try {
      const decoded = utf8.decode(Buffer.from(trimmed, "hex"))
      if (decoded.trimStart().startsWith("{")) return decoded
    } catch {
      // Not UTF-8: leave it to the JSON parser to reject the raw text.
    }
  }
  return text
}

/** How a `security` run ended. `stdout` is the only output ever handed on. */
export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  /** stderr carried `security`'s "could not be found" message. */
  readonly saidNotFound: boolean
}

/** A `security` run that did not get as far as an exit status. */
export type Failure =
  | { readonly _tag: "NotInstalled" }
  | { readonly _tag: "SpawnFailed"; readonly code: string }
  | { readonly _tag: "TimedOut"; readonly afterMs: number }
  | { readonly _tag: "OutputTooLarge"; readonly limit: number }

/** Whether the run says the item does not exist. */
export const isNotFound = (exit: Exit): boolean =>
  exit.code !== 0 && (exit.code === EXIT_NOT_FOUND || exit.saidNotFound)

// OSStatus values `security` exits with, mod 256, that are worth naming.
const KNOWN_STATUS: Record<number, string> = {
  36: "errSecInteractionNotAllowed: keychain locked or no user interaction possible",
  37: "errSecNoDefaultKeychain",
  44: "errSecItemNotFound",
  45: "errSecDuplicateItem",
  50: "errSecNoSuchKeychain",
  51: "errSecAuthFailed",
  128: "errSecUserCanceled"
}

/** A detail safe to print: the exit status or signal, never the tool's output. */
export const describeExit = (exit: Pick<Exit, "code" | "signal">): string => {
  if (exit.code === null) return `security was killed by ${exit.signal ?? "a signal"}`
  const known = KNOWN_STATUS[exit.code]
  return `security exit status ${exit.code}${known === undefined ? "" : ` (${known})`}`
}

/** A detail safe to print for a run that failed before exiting. */
export const describeFailure = (failure: Failure): string => {
  switch (failure._tag) {
    case "NotInstalled":
      return "no security executable found"
    case "SpawnFailed":
      return `security could not be started (${failure.code})`
    case "TimedOut":
      return `security timed out after ${failure.afterMs} ms and was killed`
    case "OutputTooLarge":
      return `security printed more than ${failure.limit} bytes and was killed`
  }
}

const isExecutableFile = async (file: string): Promise<boolean> => {
  try {
    if (!(await stat(file)).isFile()) return false
    await access(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Finds the executable: a name with a slash is taken as a path, a bare name
 * is looked up on `PATH` (from the `ConfigProvider`, the process environment
 * by default).
 */
export const resolveExecutable = (nameOrPath: string): Effect.Effect<Option.Option<string>> =>
  Effect.gen(function* () {
    if (nameOrPath.includes("/")) {
      const file = path.resolve(nameOrPath)
      return (yield* Effect.promise(() => isExecutableFile(file))) ? Option.some(file) : Option.none()
    }
    const searchPath = yield* Config.string("PATH").pipe(
      Config.withDefault(""),
      Effect.orElseSucceed(() => "")
    )
    for (const dir of searchPath.split(path.delimiter)) {
      if (dir === "" || !path.isAbsolute(dir)) continue
      const file = path.join(dir, nameOrPath)
      if (yield* Effect.promise(() => isExecutableFile(file))) return Option.some(file)
    }
    return Option.none()
  })

const errnoOf = (error: unknown): string => {
  const code = (error as { readonly code?: unknown } | null)?.code
  return typeof code === "string" && /^[A-Z0-9_]+$/.test(code) ? code : "unknown error"
}

const spawnOnce = (executable: string, line: string, maxOutputBytes: number): Effect.Effect<Exit, Failure> =>
  Effect.async<Exit, Failure>((resume) => {
    let child: ChildProcess
    try {
      child = spawn(executable, ["-i"], { stdio: ["pipe", "pipe", "pipe"], shell: false, windowsHide: true })
    } catch (error) {
      resume(Effect.fail({ _tag: "SpawnFailed", code: errnoOf(error) }))
      return
    }
    let settled = false
    const settle = (result: Effect.Effect<Exit, Failure>) => {
      if (settled) return
      settled = true
      resume(result)
    }
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
    const stdout: Array<Buffer> = []
    let stdoutBytes = 0
    const stderr: Array<Buffer> = []
    let stderrBytes = 0
    child.stdout?.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length
      if (stdoutBytes > maxOutputBytes) {
        stdout.length = 0
        kill()
        settle(Effect.fail({ _tag: "OutputTooLarge", limit: maxOutputBytes }))
      } else stdout.push(chunk)
    })
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderrBytes >= MAX_STDERR_BYTES) return
      stderr.push(chunk)
      stderrBytes += chunk.length
    })
    child.on("error", (error) => {
      kill()
      settle(Effect.fail({ _tag: "SpawnFailed", code: errnoOf(error) }))
    })
    child.on("close", (code, signal) => {
      const saidNotFound = /could not be found/i.test(Buffer.concat(stderr).toString("utf8"))
      stderr.length = 0
      settle(Effect.succeed({ code, signal, stdout: Buffer.concat(stdout), saidNotFound }))
    })
    // EPIPE when `security` exits before reading its stdin: its exit status says why.
    child.stdin?.on("error", () => {})
    child.stdin?.end(line, "utf8")
    return Effect.sync(kill)
  })

/** How to run `security`. */
export interface RunOptions {
  readonly securityPath: string
  readonly timeoutMs: number
  readonly maxOutputBytes?: number
}

/**
 * Runs one command line through a fresh `security -i`, killing it when it
 * outlives the timeout (a Keychain access prompt nobody answers) or prints
 * too much.
 */
export const run = (options: RunOptions, line: string): Effect.Effect<Exit, Failure> =>
  Effect.gen(function* () {
    const executable = yield* resolveExecutable(options.securityPath)
    if (Option.isNone(executable)) return yield* Effect.fail<Failure>({ _tag: "NotInstalled" })
    return yield* spawnOnce(executable.value, line, options.maxOutputBytes ?? MAX_OUTPUT_BYTES).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(options.timeoutMs),
        onTimeout: (): Failure => ({ _tag: "TimedOut", afterMs: options.timeoutMs })
      })
    )
  })
