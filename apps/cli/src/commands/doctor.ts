/**
 * `tollgate doctor [--json]`: reports the local Claude Code login without
 * any network call. Always exits 0: a missing or broken login is the answer,
 * not a failure of the command.
 */
import { Command, Options } from "@effect/cli"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as CredentialDiscovery from "../CredentialDiscovery.js"
import * as DaemonReport from "../DaemonReport.js"
import * as DoctorReport from "../DoctorReport.js"
import * as HermesReport from "../HermesReport.js"
import * as OpenCodeReport from "../OpenCodeReport.js"
import * as StoreReport from "../StoreReport.js"

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of plain words."))

/** The `doctor` subcommand. */
export const doctor = Command.make("doctor", { json }, ({ json }) =>
  Effect.gen(function* () {
    const discovery = yield* CredentialDiscovery.discover
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
).pipe(
  Command.withDescription(
    "Inspect the local Claude Code login (CLAUDE_CODE_OAUTH_TOKEN or .credentials.json) without any network " +
      "call: source, file mode, scopes, expiry, subscription, which capabilities it can use, the store backend, " +
      "Claude Code's lock state, the last refresh, the usage daemon (and why statuslines would say `daemon down`), whether Hermes Agent is set up (`tollgate hermes install`) with its plugin active, and which opencode config files list the tollgate plugin (package or file:// bundle). Never prints a token."
  )
)
