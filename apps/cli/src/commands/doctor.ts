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
import * as DoctorReport from "../DoctorReport.js"

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of plain words."))

/** The `doctor` subcommand. */
export const doctor = Command.make("doctor", { json }, ({ json }) =>
  Effect.gen(function* () {
    const discovery = yield* CredentialDiscovery.discover
    const now = yield* Clock.currentTimeMillis
    const report = DoctorReport.make(discovery, now)
    yield* Console.log(json ? JSON.stringify(report, null, 2) : DoctorReport.render(report, now))
  })
).pipe(
  Command.withDescription(
    "Inspect the local Claude Code login (CLAUDE_CODE_OAUTH_TOKEN or .credentials.json) without any network " +
      "call: source, file mode, scopes, expiry, subscription, and which capabilities it can use. Never prints a token."
  )
)
