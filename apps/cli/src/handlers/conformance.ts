/** What `tollgate conformance` does (its definition is in commands/conformance.ts). */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as ClaudeCredentialsAdapters from "@tollgate/claude-credentials/conformance"
import { CoreAdapters, Matrix } from "@tollgate/conformance"
import * as DaemonAdapters from "@tollgate/daemon/conformance"
import * as GatewayAdapters from "@tollgate/gateway/conformance"
import * as OpenCodeAdapters from "@tollgate/requests/conformance"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

/** Every adapter row the matrix runs: core's building blocks, then each adapter package's. */
export const registrations: ReadonlyArray<Matrix.Registration> = [
  ...CoreAdapters.registrations,
  ...ClaudeCredentialsAdapters.registrations,
  ...DaemonAdapters.registrations,
  ...OpenCodeAdapters.registrations,
  ...GatewayAdapters.registrations
]

/** Runs every adapter row of the conformance matrix against the simulator and writes the report to `reportDir`. */
export const conformance = ({ reportDir }: { readonly reportDir: string }) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let done = 0
    const report = yield* Effect.promise(() =>
      Matrix.runMatrix(registrations, (result) => {
        done++
        if (result.status === "fail") process.stderr.write(`FAIL ${result.adapter}: ${result.case}\n`)
        else if (done % 25 === 0) process.stderr.write(`… ${done} cases\n`)
      })
    )
    yield* Console.log(Matrix.toText(report))
    yield* fs.makeDirectory(reportDir, { recursive: true })
    const json = path.join(reportDir, "conformance-report.json")
    const md = path.join(reportDir, "conformance-report.md")
    yield* fs.writeFileString(json, `${JSON.stringify(report, null, 2)}\n`)
    yield* fs.writeFileString(md, `${Matrix.toMarkdown(report)}\n`)
    yield* Console.log(`reports: ${json}, ${md}`)
    if (report.totals.fail > 0) {
      return yield* Effect.fail(new Error(`${report.totals.fail} conformance case(s) failed`))
    }
  })
