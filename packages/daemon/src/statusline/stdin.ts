/**
 * The statusline client's stdin: Claude Code's JSON document, read until it
 * parses, ends, goes idle or runs out of time, without \`process.stdin\` on the
 * common path (see {@link fdSource}).
 *
 * @internal
 */
import { fstatSync, read } from "node:fs"

// Claude Code's document is a few KB; more than this is not it.
const MAX_STDIN_BYTES = 1024 * 1024
const CLOSE_BRACE = 0x7d

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
 * Where stdin's bytes come from: `start` delivers chunks to `onData` and
 * calls `onEnd` at EOF or on an error, and returns the function that stops
 * the delivery.
 */
export type Source = (onData: (chunk: Buffer) => void, onEnd: () => void) => () => void

/** A stream (tests, and the fallback below): `data`, `end` and `error` events. */
export const streamSource =
  (stdin: NodeJS.ReadableStream): Source =>
  (onData, onEnd) => {
    const onChunk = (data: string | Buffer): void => onData(typeof data === "string" ? Buffer.from(data) : data)
    stdin.on("data", onChunk)
    stdin.once("end", onEnd)
    stdin.once("error", onEnd)
    return () => {
      stdin.removeListener("data", onChunk)
      stdin.removeListener("end", onEnd)
      stdin.removeListener("error", onEnd)
      stdin.pause()
      // A pipe Claude Code never closes must not keep the process alive.
      ;(stdin as { unref?: () => void }).unref?.()
    }
  }

const READ_CHUNK = 64 * 1024

/**
 * Whether this process has a read of fd 0 in flight, and what to do when it
 * returns: such a read holds the process, so `run` exits at once only when
 * none is pending and otherwise sets `settled` to exit when it returns.
 */
export const fd0 = { pending: false, settled: (): void => {} }

/**
 * This process's fd 0, read with `fs.read` on libuv's threadpool: no
 * `process.stdin`, whose first use builds a `net.Socket` and loads `node:net`
 * and the stream machinery for one small document (~15 % of a `node -e 0`
 * start-up; the bench's `process.stdin` row). Claude Code hands the command a
 * blocking socket; a non-blocking fd (EAGAIN) falls back to `process.stdin`.
 * A read still pending when the delivery stops (stdin left open and silent)
 * holds the process — `process.exit` included — until it returns, which is
 * why `run` waits for it at most `LINGER_MS`.
 */
export const fdSource: Source = (onData, onEnd) => {
  let stopped = false
  let stopFallback: (() => void) | undefined
  // A terminal (someone trying the command by hand) or /dev/null holds no document: nothing to wait for.
  let readable: boolean
  try {
    readable = !fstatSync(0).isCharacterDevice()
  } catch {
    readable = false
  }
  if (!readable) {
    queueMicrotask(onEnd)
    return () => {}
  }
  const buffer = Buffer.allocUnsafe(READ_CHUNK)
  const next = (): void => {
    fd0.pending = true
    read(0, buffer, 0, READ_CHUNK, null, (error, bytes) => {
      fd0.pending = false
      if (stopped) return fd0.settled()
      if (error?.code === "EAGAIN") stopFallback = streamSource(process.stdin)(onData, onEnd)
      else if (error || bytes === 0) onEnd()
      else {
        // Copied: the buffer is reused by the next read.
        onData(Buffer.from(buffer.subarray(0, bytes)))
        if (!stopped) next()
      }
    })
  }
  next()
  return () => {
    stopped = true
    stopFallback?.()
  }
}

/**
 * Reads `source` until the chunks so far parse as JSON, it ends,
 * `idleMs` pass without data, or `maxMs` pass. Resolves with the
 * document, or `undefined` when there was none.
 */
export const readStdin = (source: Source, maxMs: number, idleMs: number): Promise<unknown> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    let doc: unknown
    let stop: () => void = () => {}
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stop()
      resolve(doc !== undefined ? doc : tryParse(Buffer.concat(chunks, size).toString("utf8")))
    }
    const onData = (chunk: Buffer): void => {
      if (settled) return
      chunks.push(chunk)
      size += chunk.length
      if (size > MAX_STDIN_BYTES) {
        finish()
        return
      }
      // Parsing only when the text could end a document keeps reading linear; a
      // whitespace-only chunk cannot turn a failed parse into a good one.
      if (lastSignificant(chunk) === CLOSE_BRACE) {
        doc = tryParse(Buffer.concat(chunks, size).toString("utf8"))
        if (doc !== undefined) {
          finish()
          return
        }
      }
      // One timer for both limits: the idle wait, cut short by the overall one.
      clearTimeout(timer)
      timer = setTimeout(finish, Math.max(0, Math.min(idleMs, deadline - Date.now())))
    }
    const deadline = Date.now() + maxMs
    let timer = setTimeout(finish, Math.min(idleMs, maxMs))
    const stopSource = source(onData, finish)
    if (settled) stopSource()
    else stop = stopSource
  })
