// The two child processes of the bench: the simulator and the gateway (with
// the baseline forwarders), each `node --import tsx` with an IPC channel, in
// a throwaway HOME/XDG/TMPDIR. The gateway's RSS is read from
// /proc/<pid>/status, so a sample costs the gateway nothing.
import { fork, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { GatewayCommand, GatewayMessage, Login, Memory, SimulatorCommand, SimulatorMessage } from "./protocol.js"

const SIMULATOR = fileURLToPath(new URL("./simulatorProcess.ts", import.meta.url))
const GATEWAY = fileURLToPath(new URL("./gatewayProcess.ts", import.meta.url))
const TSX = import.meta.resolve("tsx")

export interface Children {
  readonly simulator: { readonly url: string; readonly login: Login; readonly pid: number }
  readonly gateway: {
    readonly pid: number
    readonly url: string
    readonly key: string
    readonly forwarders: Extract<GatewayMessage, { type: "ready" }>["forwarders"]
  }
  readonly pace: (ms: number) => Promise<void>
  readonly count: () => Promise<{ messages: number; token: number }>
  /** The gateway process's memory as it sees it (after a GC when `gc`). */
  readonly memory: (gc: boolean) => Promise<Memory>
  /** Starts a CPU profile of the gateway process; `stop` writes it to `file`. */
  readonly profile: { readonly start: () => Promise<void>; readonly stop: (file: string) => Promise<void> }
  /** The gateway process's resident set from /proc, in bytes. */
  readonly rss: () => number
  /** What the children wrote to stderr (the gateway's log lines; never a credential). */
  readonly stderr: () => string
  readonly close: () => Promise<void>
}

/** The next message of `type` from `child`. */
const next = <M extends { type: string }, T extends M["type"]>(child: ChildProcess, type: T, timeoutMs = 30_000) =>
  new Promise<Extract<M, { type: T }>>((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`bench: no "${type}" from child ${child.pid} in ${timeoutMs} ms`)),
      timeoutMs
    )
    const onMessage = (message: M) => {
      if (message.type === type) done(null, message as Extract<M, { type: T }>)
    }
    const onExit = (code: number | null) =>
      done(new Error(`bench: child ${child.pid} exited (${code}) before "${type}"`))
    function done(error: Error | null, message?: Extract<M, { type: T }>) {
      clearTimeout(timer)
      child.off("message", onMessage)
      child.off("exit", onExit)
      if (error) reject(error)
      else resolve(message!)
    }
    child.on("message", onMessage)
    child.once("exit", onExit)
  })

/** A throwaway HOME, XDG dirs and TMPDIR under `root`: nothing a child does reaches the real home. */
export const throwawayEnv = async (root: string): Promise<Record<string, string>> => {
  const home = join(root, "home")
  const env = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local/state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_RUNTIME_DIR: join(root, "run"),
    TMPDIR: join(root, "tmp")
  }
  await Promise.all([home, env.XDG_RUNTIME_DIR, env.TMPDIR].map((d) => mkdir(d, { recursive: true, mode: 0o700 })))
  return env
}

export const start = async (root: string): Promise<Children> => {
  const env = await throwawayEnv(root)
  let stderr = ""
  const spawn = (file: string, execArgv: ReadonlyArray<string>) => {
    const child = fork(file, [], {
      env,
      cwd: root,
      execArgv: ["--import", TSX, ...execArgv],
      stdio: ["ignore", "ignore", "pipe", "ipc"]
    })
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    return child
  }
  const children: Array<ChildProcess> = []
  const close = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
            child.once("exit", () => {
              clearTimeout(timer)
              resolve()
            })
            if (child.connected) child.disconnect()
            else child.kill("SIGTERM")
          })
      )
    )
  }
  try {
    const sim = spawn(SIMULATOR, [])
    children.push(sim)
    const gw = spawn(GATEWAY, ["--expose-gc"])
    children.push(gw)
    const simReady = await next<SimulatorMessage, "ready">(sim, "ready")
    const gwReadyP = next<GatewayMessage, "ready">(gw, "ready")
    gw.send({ type: "start", upstream: simReady.url, login: simReady.login } satisfies GatewayCommand)
    const gwReady = await gwReadyP
    const askSim = <T extends SimulatorMessage["type"]>(command: SimulatorCommand, reply: T) => {
      const answer = next<SimulatorMessage, T>(sim, reply)
      sim.send(command)
      return answer
    }
    return {
      simulator: { url: simReady.url, login: simReady.login, pid: sim.pid! },
      gateway: { pid: gw.pid!, url: gwReady.gateway, key: gwReady.key, forwarders: gwReady.forwarders },
      pace: async (ms) => void (await askSim({ type: "pace", ms }, "paced")),
      count: async () => {
        const { messages, token } = await askSim({ type: "count" }, "counted")
        return { messages, token }
      },
      memory: async (gc) => {
        const answer = next<GatewayMessage, "memory">(gw, "memory")
        gw.send({ type: "memory", gc } satisfies GatewayCommand)
        const { type: _, ...memory } = await answer
        return memory
      },
      profile: {
        start: async () => {
          const answer = next<GatewayMessage, "profiled">(gw, "profiled")
          gw.send({ type: "profile", action: "start" } satisfies GatewayCommand)
          await answer
        },
        stop: async (file) => {
          const answer = next<GatewayMessage, "profiled">(gw, "profiled")
          gw.send({ type: "profile", action: "stop", file } satisfies GatewayCommand)
          await answer
        }
      },
      rss: () => {
        const line = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${gw.pid}/status`, "utf8"))
        return line ? Number(line[1]) * 1024 : Number.NaN
      },
      stderr: () => stderr,
      close
    }
  } catch (error) {
    await close()
    throw error
  }
}
