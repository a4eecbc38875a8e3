/**
 * The statusline client: the command a user puts in Claude Code's
 * `statusLine.command`. It reads Claude Code's JSON from stdin, gets the
 * daemon's answer, prints one line and exits 0 — within a hard 100 ms
 * budget, and without the daemon if need be.
 *
 * Its whole cost is start-up time, so its import graph is node built-ins and
 * the plain-TypeScript protocol and paths modules: no Effect, and on the
 * common path not even `node:net` and the stream machinery it loads (~10 %
 * of a `node -e 0` start-up). Stdin is read with `fs.read`, the line goes
 * out with `writeSync(1)` (`process.stdin`/`process.stdout` on Claude Code's
 * sockets would each build a `net.Socket`), and the daemon's answer is read
 * from the status it publishes after every answer (`Protocol.Published`);
 * the client asks over the socket only when it has news for the daemon
 * (`rate_limits` the daemon has not seen) or that answer is older than
 * `Protocol.PUBLISHED_FRESH_MS` or its daemon is gone
 * (`pnpm --filter @tollgate/daemon bench` measures both paths). It does
 * neither in a runtime directory that is not this user's own (another
 * user's `tollgate/` on a shared `XDG_RUNTIME_DIR`, or a symlink): that is
 * `daemon down`, and `tollgate doctor` says why (`RuntimeDirectory`).
 *
 * @since 0.1.0
 */
import * as SafeRead from "@tollgate/files/SafeRead"
import { statSync, writeSync } from "node:fs"
import * as Paths from "../Paths.js"
import * as Protocol from "../Protocol.js"
import * as RuntimeDirectory from "../RuntimeDirectory.js"
import * as Format from "./format.js"
import { parsePublished, parseStatusReply } from "./reply.js"
import { fd0, fdSource, readStdin, streamSource } from "./stdin.js"

/** The whole run (stdin and daemon) never takes longer than this before printing. @since 0.1.0 */
export const BUDGET_MS = 100

/**
 * Claude Code writes one JSON document and may never close stdin: reading
 * stops at the first complete document, at EOF, or after this long without
 * data.
 *
 * @since 0.1.0
 */
export const STDIN_IDLE_MS = 40

/** Stdin may use at most this much of the budget, so the daemon always gets a chance. @since 0.1.0 */
export const STDIN_MAX_MS = 70

/**
 * How long `run` waits, after the line is out, for a stdin that was left
 * open and silent to end before it ends the process with SIGKILL: a read
 * blocked on the threadpool cannot be cancelled, and `process.exit` waits
 * for it. Claude Code closes stdin right after its document, so it never
 * meets this.
 *
 * @since 0.1.0
 */
export const LINGER_MS = 1_000

// Kept back from the budget for rendering and writing the line.
const PRINT_RESERVE_MS = 3
const MAX_REPLY_CHARS = 64 * 1024

/**
 * What the client reads and writes; every field defaults to the process's
 * own. `now` only dates the reset times on the line; the budget runs on
 * timers.
 *
 * @since 0.1.0
 */
export interface Io {
  readonly stdin?: NodeJS.ReadableStream
  readonly stdout?: { write(chunk: string): unknown }
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly now?: () => number
}

interface Answer {
  readonly state: Format.DaemonState
  readonly quota: Protocol.Quota<string> | null
}

/**
 * One request line out, one reply line back, or a state saying why not, within
 * `timeoutMs` of the call. The connection opens at once (while stdin is still
 * being read, when the client knows early that it will ask); the request goes
 * out when `request` resolves.
 */
const ask = (socket: string, request: Promise<string>, timeoutMs: number): Promise<Answer> => {
  if (timeoutMs <= 0) return Promise.resolve({ state: "slow", quota: null })
  // No socket file: the daemon is down; no connection attempt needed.
  if (statSync(socket, { throwIfNoEntry: false }) === undefined) return Promise.resolve({ state: "down", quota: null })
  // Loaded only here, synchronously: `import()` would load Node's whole ES module loader (~4 ms) for it.
  // Its few ms of loading come out of the budget too.
  const called = Date.now()
  const { createConnection } = process.getBuiltinModule("node:net")
  return new Promise<Answer>((resolve) => {
    let settled = false
    let connected = false
    let reply = ""
    const conn = createConnection({ path: socket })
    const done = (state: Format.DaemonState, quota: Protocol.Quota<string> | null = null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn.destroy()
      resolve({ state, quota })
    }
    const finish = (line: string): void => {
      const quota = parseStatusReply(line)
      done(quota ? "ok" : "error", quota)
    }
    const timer = setTimeout(() => done("slow"), Math.max(0, timeoutMs - (Date.now() - called)))
    conn.setEncoding("utf8")
    conn.on("connect", () => {
      connected = true
      // No half-close: a server without allowHalfOpen would end its side before replying.
      void request.then((line) => settled || conn.write(line))
    })
    conn.on("data", (chunk: string) => {
      reply += chunk
      const nl = reply.indexOf("\n")
      if (nl >= 0) finish(reply.slice(0, nl))
      else if (reply.length > MAX_REPLY_CHARS) done("error")
    })
    conn.on("end", () => finish(reply))
    // ECONNREFUSED (a stale socket file) before connecting: nobody is listening.
    conn.on("error", () => done(connected ? "error" : "down"))
    conn.on("close", () => done(connected ? "error" : "down"))
  })
}

/**
 * The daemon's published status when it can stand in for an answer: well
 * formed, at most `PUBLISHED_FRESH_MS` old, next to a socket file, from a
 * daemon process that is still there. `undefined` otherwise (the client asks).
 */
const readPublished = (paths: Paths.Paths, now: number): Protocol.Published<string> | undefined => {
  let text: string | null
  try {
    // Ours, a regular file, within the cap: a symlink, a FIFO or another user's file is not read.
    text = SafeRead.readTextSync(paths.published, { maxBytes: Protocol.PUBLISHED_MAX_BYTES, mustBeOurs: true })
  } catch {
    return undefined
  }
  if (text === null) return undefined
  const published = parsePublished(text)
  if (published === null) return undefined
  const age = now - published.answeredAt
  if (age < -1_000 || age > Protocol.PUBLISHED_FRESH_MS) return undefined
  if (statSync(paths.socket, { throwIfNoEntry: false }) === undefined) return undefined
  try {
    // Signal 0 only checks; EPERM means the pid now belongs to someone else's process.
    process.kill(published.pid, 0)
  } catch {
    return undefined
  }
  return published
}

const sessionIdOf = (input: unknown): string | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const id = (input as Record<string, unknown>)["session_id"]
  return typeof id === "string" ? id.slice(0, 200) : undefined
}

/** Resolves once the line is written (or can never be). */
const writeLine = (line: string, stdout: Io["stdout"]): Promise<void> => {
  try {
    if (stdout) stdout.write(line)
    else writeSync(1, line)
  } catch (e) {
    // A non-blocking stdout that is momentarily full; anything else (EPIPE: Claude Code gave up) is final.
    if (!stdout && (e as NodeJS.ErrnoException).code === "EAGAIN") {
      return new Promise((resolve) => {
        try {
          process.stdout.on("error", () => resolve())
          process.stdout.write(line, () => resolve())
        } catch {
          // Nowhere left to say anything.
          resolve()
        }
      })
    }
  }
  return Promise.resolve()
}

/**
 * Runs the client once and resolves with the line it printed (without the
 * newline). Never rejects and never prints anything but that line. Without
 * `io.stdin` it reads fd 0 and may leave a read pending when stdin stays open:
 * a process entry uses `run`, which exits.
 *
 * @since 0.1.0
 */
export const main = async (io: Io = {}): Promise<string> => {
  // process.hrtime rather than `performance`, whose first use loads perf_hooks (~1 ms).
  const started = process.hrtime.bigint()
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e6
  const env = io.env ?? process.env
  const now = io.now ?? Date.now
  let fromStdin: Protocol.Windows | undefined
  let line: string
  try {
    const paths = Paths.resolve(env)
    // Another user's runtime directory (or a symlink): neither read its status nor send its socket anything.
    const refused = RuntimeDirectory.refusal(paths) !== null
    const published = refused ? undefined : readPublished(paths, now())
    let send: (line: string) => void = () => {}
    const requestLine = new Promise<string>((resolve) => (send = resolve))
    const askNow = (): Promise<Answer> =>
      refused
        ? Promise.resolve({ state: "down", quota: null })
        : ask(paths.socket, requestLine, BUDGET_MS - PRINT_RESERVE_MS - elapsed())
    // Without a usable published status the client will ask: connect while stdin is being read.
    let answering = published === undefined ? askNow() : undefined
    const doc = await readStdin(io.stdin ? streamSource(io.stdin) : fdSource, STDIN_MAX_MS, STDIN_IDLE_MS)
    fromStdin = Protocol.fromStatuslineInput(doc)
    // Nothing the daemon has not seen: its published answer is the answer.
    if (answering === undefined && fromStdin !== undefined && Protocol.snapshotKey(fromStdin) !== published?.seen) {
      answering = askNow()
    }
    const sessionId = sessionIdOf(doc)
    const request: Protocol.Request = {
      v: Protocol.VERSION,
      op: "status",
      ...(fromStdin ? { rateLimits: fromStdin } : {}),
      ...(sessionId !== undefined ? { sessionId } : {})
    }
    send(`${JSON.stringify(request)}\n`)
    const answer: Answer = answering ? await answering : { state: "ok", quota: published?.quota ?? null }
    line = Format.render(
      {
        windows: Format.merge(answer.quota?.windows, fromStdin),
        daemon: answer.state,
        verdict: answer.quota?.verdict ?? null,
        until: answer.quota?.until ?? null
      },
      { now: now(), color: Format.colorEnabled(env) }
    )
  } catch {
    // Not expected; still one line with whatever numbers there are.
    line = Format.render(
      { windows: fromStdin ?? {}, daemon: "error", verdict: null, until: null },
      { now: Date.now(), color: false }
    )
  }
  await writeLine(`${line}\n`, io.stdout)
  return line
}

/**
 * The process entry (what `tollgate statusline` runs): `main` on this
 * process's own stdin and stdout, then exit 0 at once. Only when stdin was
 * left open without a document is a read still pending; then the process
 * exits 0 as soon as stdin ends or sends anything, and after `LINGER_MS`
 * ends itself with SIGKILL (the line is long out by then).
 *
 * @since 0.1.0
 */
export const run = (): Promise<void> =>
  main().then(() => {
    if (!fd0.pending) return process.exit(0)
    // stdin was left open and silent: exit 0 the moment it ends or speaks, or give up after LINGER_MS.
    fd0.settled = () => process.exit(0)
    setTimeout(() => process.kill(process.pid, "SIGKILL"), LINGER_MS)
  })
