/**
 * One daemon per user. A lock file next to the socket, holding the owner's
 * pid, is taken before binding and held for the daemon's lifetime; a socket
 * nobody answers on is stale and removed. Two daemons starting at once
 * cannot both win, and a crashed one never blocks the next.
 *
 * @since 0.1.0
 */
import { connect } from "node:net"
import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import type { Paths } from "./Paths.js"
import { ensurePrivateDir, errorCode, inodeOf, unlinkQuietly } from "./internal/serverDir.js"

/** The lock file's name, in the socket's directory. @since 0.1.0 */
export const LOCK_FILE = "daemon.lock"

/** How long a daemon already on the socket gets to answer before the socket counts as stale. @since 0.1.0 */
export const PING_TIMEOUT_MS = 300

/**
 * A lock whose owner is alive but silent on the socket is presumed a pid
 * reused by another process (the lock survived a crash or, where the socket
 * lives under the state directory, a reboot) once it is this old, if that
 * process is not a daemon — or, where the process table cannot say, if a
 * patient ping also goes unanswered. A daemon binds within milliseconds of
 * taking the lock.
 *
 * @since 0.1.0
 */
export const STARTUP_GRACE_MS = 10_000

/** The patient ping for a silent lock owner where its command line cannot be read. @since 0.1.0 */
export const PATIENT_PING_MS = 2_000

/** Ours until released. @since 0.1.0 */
export interface Lock {
  /** Removes the socket and the lock file, unless another daemon has since taken them over. Idempotent. */
  readonly release: () => Promise<void>
}

/** Another daemon holds the lock or answers on the socket; `pid` is `null` when it did not say. @since 0.1.0 */
export interface Running {
  readonly running: true
  readonly pid: number | null
}

// Locks this process holds: our own pid in a lock file is otherwise a stale
// lock from an earlier life (containers restart with the same pid).
const held = new Set<string>()

/**
 * Sends a `ping` and reads the reply. `null` when nothing answers within
 * `timeoutMs` (no socket, connection refused, silence, not our protocol);
 * `{ pid: null }` when a daemon answered without a pid (another protocol
 * version).
 *
 * @since 0.1.0
 */
export const probe = (socketPath: string, timeoutMs: number): Promise<{ readonly pid: number | null } | null> =>
  new Promise((resolve) => {
    let received = ""
    let settled = false
    const socket = connect(socketPath)
    const settle = (result: { readonly pid: number | null } | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => settle(null), timeoutMs)
    socket.setEncoding("utf8")
    socket.on("connect", () => socket.end(`${JSON.stringify({ v: 1, op: "ping" })}\n`))
    socket.on("data", (chunk: string) => {
      received += chunk
      const newline = received.indexOf("\n")
      if (newline !== -1) settle(readPong(received.slice(0, newline)))
      else if (received.length > 4096) settle(null)
    })
    socket.on("end", () => settle(readPong(received)))
    socket.on("error", () => settle(null))
  })

const readPong = (line: string): { readonly pid: number | null } | null => {
  let reply: unknown
  try {
    reply = JSON.parse(line)
  } catch {
    return null
  }
  if (typeof reply !== "object" || reply === null || !("ok" in reply) || typeof reply.ok !== "boolean") return null
  const pid =
    "op" in reply && reply.op === "pong" && "pid" in reply && Number.isSafeInteger(reply.pid)
      ? (reply.pid as number)
      : null
  return { pid }
}

/**
 * Pings the daemon on `socketPath`: its pid, or `null` when none answers
 * within `timeoutMs`.
 *
 * @since 0.1.0
 */
export const ping = async (socketPath: string, timeoutMs: number): Promise<{ readonly pid: number } | null> => {
  const answer = await probe(socketPath, timeoutMs)
  return answer !== null && answer.pid !== null ? { pid: answer.pid } : null
}

const alive = (pid: number, lockPath: string): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return held.has(lockPath)
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: alive, but another user's.
    return errorCode(error) === "EPERM"
  }
}

// Linux only: whether `pid` runs `… daemon run`; `null` where there is no /proc.
const runsDaemon = async (pid: number): Promise<boolean | null> => {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0")
    return argv.some((arg, i) => arg === "daemon" && argv[i + 1] === "run")
  } catch {
    return null
  }
}

// A live lock owner: a daemon (answering, starting, or just slow on a busy
// machine), or an unrelated process that inherited a dead daemon's pid.
const ownerIsDaemon = async (
  holder: { readonly pid: number; readonly mtimeMs: number },
  socketPath: string
): Promise<boolean> => {
  if (holder.pid === process.pid) return true
  if ((await probe(socketPath, PING_TIMEOUT_MS)) !== null) return true
  if (Date.now() - holder.mtimeMs < STARTUP_GRACE_MS) return true
  return (await runsDaemon(holder.pid)) ?? (await probe(socketPath, PATIENT_PING_MS)) !== null
}

// Written whole under a private name, then hard-linked into place: `link`
// fails if the lock exists (like O_EXCL) and, unlike an O_EXCL create followed
// by a write, nobody can ever read a half-written, pid-less lock.
const create = async (lockPath: string): Promise<boolean> => {
  const draft = `${lockPath}.${process.pid}.draft`
  await writeFile(draft, `${process.pid}\n`, { mode: 0o600 })
  try {
    await link(draft, lockPath)
    return true
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false
    throw error
  } finally {
    await unlinkQuietly(draft)
  }
}

const readHolder = async (lockPath: string): Promise<{ pid: number; inode: number; mtimeMs: number } | null> => {
  try {
    const [text, st] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)])
    return { pid: Number.parseInt(text.trim(), 10), inode: st.ino, mtimeMs: st.mtimeMs }
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null
    throw error
  }
}

// Removes the stale lock we examined and nothing else: moved aside first, so
// if another starter replaced it meanwhile we notice and put theirs back.
const removeStale = async (lockPath: string, inode: number): Promise<void> => {
  const aside = `${lockPath}.${process.pid}.stale`
  try {
    await rename(lockPath, aside)
  } catch (error) {
    if (errorCode(error) === "ENOENT") return
    throw error
  }
  if ((await inodeOf(aside)) !== inode) {
    await link(aside, lockPath).catch(() => {})
  }
  await unlink(aside)
}

// Removes the lock if it is still ours, and first (while still holding it,
// so no successor's socket is at risk) the socket when one is given.
const releaseLock = async (lockPath: string, socketPath: string | null): Promise<void> => {
  if (!held.delete(lockPath)) return
  const holder = await readHolder(lockPath)
  // Taken over (see STARTUP_GRACE_MS): the socket and the lock are the new daemon's now.
  if (holder?.pid !== process.pid) return
  if (socketPath !== null) await unlinkQuietly(socketPath)
  await unlinkQuietly(lockPath)
}

/**
 * Takes the single-instance lock for `paths.socket` and clears a stale
 * socket, or says who is already running. Call before `Server.start`, and
 * `release` on shutdown (after closing the server).
 *
 * @since 0.1.0
 */
export const acquire = async (paths: Pick<Paths, "socket">): Promise<Lock | Running> => {
  const dir = dirname(paths.socket)
  await ensurePrivateDir(dir)
  const lockPath = join(dir, LOCK_FILE)

  let ours = false
  // A few rounds: each either takes the lock, reports its owner, or removes a stale one.
  for (let round = 0; round < 5 && !ours; round++) {
    if (await create(lockPath)) {
      ours = true
      break
    }
    const holder = await readHolder(lockPath)
    if (holder === null) continue
    if (alive(holder.pid, lockPath) && (await ownerIsDaemon(holder, paths.socket)))
      return { running: true, pid: holder.pid }
    await removeStale(lockPath, holder.inode)
  }
  if (!ours) {
    const holder = await readHolder(lockPath)
    return { running: true, pid: holder?.pid ?? null }
  }
  held.add(lockPath)

  // A daemon without the lock file (deleted by hand, or an older tollgate) may still be answering.
  if ((await inodeOf(paths.socket)) !== null) {
    const answer = await probe(paths.socket, PING_TIMEOUT_MS)
    if (answer !== null) {
      await releaseLock(lockPath, null)
      return { running: true, pid: answer.pid }
    }
    await unlinkQuietly(paths.socket)
  }
  return {
    release: () => releaseLock(lockPath, paths.socket)
  }
}
