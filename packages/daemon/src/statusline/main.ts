/**
 * The statusline client: the command a user puts in Claude Code's
 * `statusLine.command`. It reads Claude Code's JSON from stdin, asks the
 * daemon over its Unix socket, prints one line and exits 0 — within a hard
 * 100 ms budget, and without the daemon if need be.
 *
 * Its whole cost is start-up time, so its import graph is node built-ins and
 * the plain-TypeScript protocol and paths modules: no Effect. The line goes
 * out with `writeSync(1)`: `process.stdout` on Claude Code's stdout (a
 * socket) would construct a `net.Socket` for one write
 * (`pnpm --filter @tollgate/daemon bench` measures the whole run).
 *
 * @since 0.1.0
 */
import { statSync, writeSync } from "node:fs"
import { createConnection } from "node:net"
import * as Paths from "../Paths.js"
import * as Protocol from "../Protocol.js"
import * as Format from "./format.js"
import { parseStatusReply } from "./reply.js"

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

// Kept back from the budget for rendering and writing the line.
const PRINT_RESERVE_MS = 3
// Claude Code's document is a few KB; more than this is not it.
const MAX_STDIN_BYTES = 1024 * 1024
const MAX_REPLY_CHARS = 64 * 1024
const CLOSE_BRACE = 0x7d

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

const tryParse = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

// The last byte of `chunk` that is not JSON whitespace, or -1 when there is none.
const lastSignificant = (chunk: Buffer): number => {
  for (let i = chunk.length - 1; i >= 0; i--) {
    const byte = chunk[i] ?? -1
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte
  }
  return -1
}

/**
 * Reads stdin until the chunks so far parse as JSON, the stream ends,
 * `STDIN_IDLE_MS` pass without data, or `maxMs` pass. Resolves with the
 * document, or `undefined` when there was none.
 */
const readStdin = (stdin: NodeJS.ReadableStream, maxMs: number): Promise<unknown> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    let doc: unknown = undefined
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stdin.removeListener("data", onData)
      stdin.removeListener("end", finish)
      stdin.removeListener("error", finish)
      stdin.pause()
      resolve(doc !== undefined ? doc : tryParse(Buffer.concat(chunks, size).toString("utf8")))
    }
    const onData = (data: string | Buffer): void => {
      const chunk = typeof data === "string" ? Buffer.from(data) : data
      chunks.push(chunk)
      size += chunk.length
      if (size > MAX_STDIN_BYTES) return finish()
      // Parsing only when the text could end a document keeps reading linear; a
      // whitespace-only chunk cannot turn a failed parse into a good one.
      if (lastSignificant(chunk) === CLOSE_BRACE) {
        doc = tryParse(Buffer.concat(chunks, size).toString("utf8"))
        if (doc !== undefined) return finish()
      }
      // One timer for both limits: the idle wait, cut short by the overall one.
      clearTimeout(timer)
      timer = setTimeout(finish, Math.max(0, Math.min(STDIN_IDLE_MS, deadline - Date.now())))
    }
    const deadline = Date.now() + maxMs
    let timer = setTimeout(finish, Math.min(STDIN_IDLE_MS, maxMs))
    stdin.on("data", onData)
    stdin.once("end", finish)
    stdin.once("error", finish)
  })

interface Answer {
  readonly state: Format.DaemonState
  readonly quota: Protocol.Quota | null
}

/**
 * One request line out, one reply line back, or a state saying why not. The
 * connection opens at once, while stdin is still being read; the request
 * goes out when `request` resolves.
 */
const ask = (socket: string, request: Promise<string>, timeoutMs: number): Promise<Answer> => {
  if (timeoutMs <= 0) return Promise.resolve({ state: "slow", quota: null })
  // No socket file: the daemon is down; no connection attempt needed.
  if (statSync(socket, { throwIfNoEntry: false }) === undefined) return Promise.resolve({ state: "down", quota: null })
  return new Promise((resolve) => {
    let settled = false
    let connected = false
    let reply = ""
    const conn = createConnection({ path: socket })
    const done = (state: Format.DaemonState, quota: Protocol.Quota | null = null): void => {
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
    const timer = setTimeout(() => done("slow"), timeoutMs)
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

const sessionIdOf = (input: unknown): string | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const id = (input as Record<string, unknown>)["session_id"]
  return typeof id === "string" ? id.slice(0, 200) : undefined
}

const writeLine = (line: string, stdout: Io["stdout"]): void => {
  try {
    if (stdout) stdout.write(line)
    else writeSync(1, line)
  } catch (e) {
    // A non-blocking stdout that is momentarily full; anything else (EPIPE: Claude Code gave up) is final.
    if (!stdout && (e as NodeJS.ErrnoException).code === "EAGAIN") {
      try {
        process.stdout.on("error", () => {})
        process.stdout.write(line)
      } catch {
        // Nowhere left to say anything.
      }
    }
  }
}

/**
 * Runs the client once and resolves with the line it printed (without the
 * newline). Never rejects and never prints anything but that line.
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
    let send: (line: string) => void = () => {}
    const requestLine = new Promise<string>((resolve) => (send = resolve))
    const answering = ask(Paths.resolve(env).socket, requestLine, BUDGET_MS - PRINT_RESERVE_MS - elapsed())
    const doc = await readStdin(io.stdin ?? process.stdin, STDIN_MAX_MS)
    // Our own stdin is done with; a pipe Claude Code never closes must not keep the process alive.
    // unref is enough for that (the process ends right after printing) and cheaper than destroy.
    if (io.stdin === undefined) (process.stdin as { unref?: () => void }).unref?.()
    fromStdin = Protocol.fromStatuslineInput(doc)
    const sessionId = sessionIdOf(doc)
    const request: Protocol.Request = {
      v: Protocol.VERSION,
      op: "status",
      ...(fromStdin ? { rateLimits: fromStdin } : {}),
      ...(sessionId !== undefined ? { sessionId } : {})
    }
    send(`${JSON.stringify(request)}\n`)
    const answer = await answering
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
  writeLine(`${line}\n`, io.stdout)
  return line
}
