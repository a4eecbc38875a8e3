/** What `tollgate doctor` does (its definition is in commands/doctor.ts). */
import { LoginDiscovery } from "@tollgate/claude-credentials"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as DaemonReport from "../DaemonReport.js"
import * as DoctorReport from "../DoctorReport.js"
import * as HermesReport from "../HermesReport.js"
import * as OpenCodeReport from "../OpenCodeReport.js"
import * as StoreReport from "../StoreReport.js"

/** Gathers the login, store, daemon, Hermes and opencode reports and prints them (or one JSON document). */
export const doctor = ({ json }: { readonly json: boolean }) =>
  Effect.gen(function* () {
    const discovery = yield* LoginDiscovery.discover
    const now = yield* Clock.currentTimeMillis
    const report = DoctorReport.make(discovery, now)
    const store = yield* StoreReport.gather
    const daemon = yield* DaemonReport.gather
    const hermes = yield* HermesReport.gather
    const opencode = yield* OpenCodeReport.gather
    yield* Console.log(
      json
        ? JSON.stringify({ ...report, ...store, ...daemon, ...hermes, ...opencode }, null, 2)
        : [
            DoctorReport.render(report, now),
            "",
            "Store and locks",
            ...DoctorReport.table(StoreReport.render(store)),
            "",
            "Usage daemon",
            ...DoctorReport.table(DaemonReport.render(daemon)),
            "",
            "Hermes Agent",
            ...DoctorReport.table(HermesReport.render(hermes)),
            "",
            "opencode",
            ...DoctorReport.table(OpenCodeReport.render(opencode))
          ].join("\n")
    )
  })
