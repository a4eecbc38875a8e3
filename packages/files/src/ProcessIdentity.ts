/**
 * Who a process is, in the terms Claude Code (2.1.330) records in a lock's
 * owner record, and whether a recorded process provably no longer runs. The
 * pid alone is not enough: pids are reused, and a pid from another machine
 * or pid namespace (a container) means nothing here. So a process is its pid,
 * its start time (`/proc/<pid>/stat` field 22 on Linux), the pid namespace's
 * machine (`pidDomain`) and the namespace itself (`pidSpace`).
 *
 * Every value is exactly what Claude Code computes for the same process: a
 * wrong `procStart` would make a live process look dead to Claude Code and
 * let it take a lock from under it.
 *
 * @since 0.2.0
 */
import { readFileSync, readlinkSync } from "node:fs"
import { hostname } from "node:os"
import { errorCode } from "./internal/stats.js"

/**
 * What identifies a process beyond its pid.
 *
 * @since 0.2.0
 */
export interface Identity {
  /** Start time in clock ticks since boot (Linux); `undefined` elsewhere. */
  readonly procStart: string | undefined
  /** The machine and pid namespace, e.g. `linux:<machine-id>:pid:[4026531836]`. */
  readonly pidDomain: string
  /** The host name and pid namespace. */
  readonly pidSpace: string
}

/**
 * A process as an owner record names it.
 *
 * @since 0.2.0
 */
export interface Process {
  readonly pid: number
  readonly procStart?: string | undefined
  readonly pidDomain: string
  readonly pidSpace: string
}

const readOr = (file: string, fallback: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return fallback
  }
}

const readlinkOr = (link: string): string => {
  try {
    return readlinkSync(link)
  } catch {
    return ""
  }
}

/** `/proc/<pid>/stat` after the command name (field 3 on), as Claude Code splits it; `null` without one. */
const statFields = (pid: number): ReadonlyArray<string> | null => {
  const stat = readOr(`/proc/${pid}/stat`, "")
  const close = stat.lastIndexOf(")")
  return stat === "" || close < 0 ? null : stat.slice(close + 2).split(" ")
}

const compute = (pid: number): Identity => {
  const ns = process.platform === "linux" ? readlinkOr("/proc/self/ns/pid") : ""
  const pidDomain =
    process.platform === "linux"
      ? `linux:${readOr("/etc/machine-id", "").trim()}:${ns}`
      : process.platform === "win32"
        ? `linux:${hostname().toLowerCase()}`
        : // Claude Code 2.1.330 literally uses "linux" on every other platform.
          "linux"
  return {
    // Off Linux Claude Code shells out to `ps -o lstart=`; leaving it out is safe: without it
    // a holder is only judged dead when its pid is, never a live one.
    procStart: process.platform === "linux" ? statFields(pid)?.[19] : undefined,
    pidDomain,
    pidSpace: `${hostname()}${ns === "" ? "" : `#${ns}`}`
  }
}

let ours: Identity | undefined

/**
 * This process's identity, computed once.
 *
 * @since 0.2.0
 */
export const current = (): Identity => (ours ??= compute(process.pid))

/**
 * This process as an owner record names it.
 *
 * @since 0.2.0
 */
export const self = (): Process => {
  const me = current()
  return {
    pid: process.pid,
    ...(me.procStart !== undefined ? { procStart: me.procStart } : {}),
    pidDomain: me.pidDomain,
    pidSpace: me.pidSpace
  }
}

const MAX_PID = 2147483647

/**
 * Whether the process still runs: `false` only when proven gone (same
 * machine and pid namespace, and the pid does not exist, is a zombie, or
 * was reused by a process with another start time), `null` when it cannot
 * be told from here (another machine or namespace, a nonsensical pid).
 * Claude Code decides the same way.
 *
 * @since 0.2.0
 */
export const alive = (owner: Process): boolean | null => {
  const me = current()
  if (owner.pidDomain !== me.pidDomain || owner.pidSpace !== me.pidSpace) return null
  if (!Number.isInteger(owner.pid) || owner.pid <= 1 || owner.pid > MAX_PID) return null
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if (errorCode(error) === "ESRCH") return false
  }
  if (process.platform !== "linux") return true
  const fields = statFields(owner.pid)
  if (fields === null) return false
  if (fields[0] === "Z" || fields[0] === "X") return false
  return owner.procStart === undefined || owner.procStart === fields[19]
}
