// The gateway under test, in a process of its own, so the load generator's
// event loop and the simulator's do not share its CPU time or its RSS.
// Started by bench/index.ts with an IPC channel: `start` brings up the
// gateway (and the two baseline forwarders) in front of the simulator;
// `memory` answers with this process's memory (after a GC when asked and
// Node runs with --expose-gc); `profile` starts and stops a CPU profile
// around one phase. Ends when the channel closes.
import { writeFile } from "node:fs/promises"
import { Session } from "node:inspector/promises"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as AccountStore from "@tollgate/requests/AccountStore"
import * as DaemonForwarder from "@tollgate/requests/DaemonForwarder"
import * as Gateway from "../src/Gateway.js"
import * as GatewayKey from "../src/GatewayKey.js"
import * as Baseline from "./baselineForwarders.js"
import type { GatewayCommand, GatewayMessage } from "./protocol.js"

const send = (message: GatewayMessage) => process.send?.(message)

let running: Gateway.Running | null = null
let session: Session | null = null
const closers: Array<() => Promise<unknown>> = []

process.on("message", async (command: GatewayCommand) => {
  if (command.type === "start") {
    const key = GatewayKey.generate()
    const settings = OAuthConfig.make({ apiBaseUrl: command.upstream, oauthBaseUrl: command.upstream })
    running = await Gateway.listen({
      accounts: [
        {
          type: "oauth",
          access: command.login.access,
          refresh: command.login.refresh,
          expires: command.login.expires,
          scopes: command.login.scopes
        }
      ],
      key,
      settings,
      port: 0,
      // As `tollgate gateway run` configures it: the shared account state and the daemon forwarder (no daemon runs here).
      store: AccountStore.make(),
      forwarder: DaemonForwarder.make(),
      log: (line) => process.stderr.write(`${line}\n`)
    })
    closers.push(() => running!.close(1_000))
    const signing = { upstream: command.upstream, key, login: { type: "oauth" as const, ...command.login }, settings }
    const forwarders = {
      pipe: await Baseline.pipe(signing),
      fetch: await Baseline.fetchForwarder(signing),
      requestPath: await Baseline.requestPath(signing),
      platform: await Baseline.platform(signing, { bufferJson: false }),
      platformBuffered: await Baseline.platform(signing, { bufferJson: true })
    }
    for (const forwarder of Object.values(forwarders)) closers.push(forwarder.close)
    send({
      type: "ready",
      gateway: running.url,
      key,
      forwarders: {
        pipe: forwarders.pipe.url,
        fetch: forwarders.fetch.url,
        requestPath: forwarders.requestPath.url,
        platform: forwarders.platform.url,
        platformBuffered: forwarders.platformBuffered.url
      }
    })
  } else if (command.type === "memory") {
    const gc = (globalThis as { gc?: () => void }).gc
    if (command.gc && gc) {
      gc()
      await new Promise((resolve) => setTimeout(resolve, 50))
      gc()
    }
    const m = process.memoryUsage()
    send({ type: "memory", rss: m.rss, heapUsed: m.heapUsed, external: m.external, inFlight: running?.inFlight() ?? 0 })
  } else if (command.type === "profile") {
    if (command.action === "start") {
      session = new Session()
      session.connect()
      await session.post("Profiler.enable")
      await session.post("Profiler.setSamplingInterval", { interval: 100 })
      await session.post("Profiler.start")
    } else if (session !== null) {
      const { profile } = await session.post("Profiler.stop")
      session.disconnect()
      session = null
      await writeFile(command.file, JSON.stringify(profile))
    }
    send({ type: "profiled", action: command.action })
  }
})

process.on("disconnect", () => {
  void Promise.all(closers.map((close) => close())).finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2_000).unref()
})
