// What both daemon benches run: apps/cli built from this source, and its real
// `tollgate daemon run` once it answers on its socket.
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Paths from "../src/Paths.js"
import * as SingleInstance from "../src/SingleInstance.js"

/** The built `tollgate` executable, what `statusline install` and `daemon install` point at. */
export const CLI = fileURLToPath(new URL("../../../apps/cli/dist/tollgate.js", import.meta.url))
const BUILD = fileURLToPath(new URL("../../../apps/cli/build.mjs", import.meta.url))

/** Builds apps/cli, so the benches never time a stale dist/. */
export const buildCli = (): Promise<void> =>
  new Promise((resolve, reject) =>
    spawn(process.execPath, [BUILD], { stdio: "inherit" }).once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error("CLI build failed"))
    )
  )

/** `tollgate daemon run` in `env`, resolved once it answers a ping; rejects with its stderr if it never does. */
export const startDaemon = async (env: Readonly<Record<string, string>>): Promise<ChildProcess> => {
  const daemon = spawn(process.execPath, [CLI, "daemon", "run"], { env, stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  daemon.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
  const socket = Paths.resolve(env).socket
  for (let i = 0; i < 200; i++) {
    if (await SingleInstance.ping(socket, 1_000)) return daemon
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  daemon.kill("SIGKILL")
  throw new Error(`the daemon never answered on ${socket}:\n${stderr}`)
}
