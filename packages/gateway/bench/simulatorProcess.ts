// The bench's simulator, in a process of its own so neither the load
// generator nor the gateway shares its event loop (and the gateway's RSS is
// the gateway's alone). Started by bench/index.ts with an IPC channel; ends
// when the channel closes.
import * as Simulator from "@tollgate/conformance/Simulator"
import type { SimulatorCommand, SimulatorMessage } from "./protocol.js"

const send = (message: SimulatorMessage) => process.send?.(message)

const sim = await Simulator.start({ maxRequests: 10_000_000, ttlMs: 10 * 60_000 })
process.on("message", (command: SimulatorCommand) => {
  if (command.type === "pace") {
    sim.setStreamPace(command.ms)
    send({ type: "paced", ms: command.ms })
  } else if (command.type === "count") {
    send({ type: "counted", messages: sim.count("messages"), token: sim.count("token") })
  }
})
process.on("disconnect", () => void sim.close().then(() => process.exit(0)))
send({
  type: "ready",
  url: sim.url,
  login: {
    access: sim.account.accessToken,
    refresh: sim.account.refreshToken,
    expires: sim.account.expiresAt,
    scopes: [...sim.account.scopes]
  }
})
