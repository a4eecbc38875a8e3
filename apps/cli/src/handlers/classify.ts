/** What `tollgate classify` does (its definition is in commands/classify.ts). */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Classification, Classify } from "@tollgate/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ClassifyInput from "../ClassifyInput.js"
import { UsageError } from "../UsageError.js"

const NAME = "tollgate classify"

// Far more than any response prefix the classifier reads; guards against
// piping something unbounded in by mistake.
const MAX_INPUT_BYTES = 16 * 1024 * 1024

const fail = (detail: string) => new UsageError({ command: NAME, detail })

// Reads to EOF: the caller closes stdin when the document is complete.
const readStdin = NodeStream.toString(() => process.stdin, {
  maxBytes: MAX_INPUT_BYTES,
  onFailure: (e) => fail(`cannot read stdin: ${e instanceof Error ? e.message : String(e)}`)
})

const readFile = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
    Effect.mapError((e) =>
      fail(`cannot read ${path}: ${e._tag === "SystemError" && e.reason === "NotFound" ? "no such file" : e.message}`)
    )
  )

/** Classifies one recorded upstream response (a file, or stdin) and prints core's verdict as JSON. */
export const classify = ({ file }: { readonly file: Option.Option<string> }) =>
  Effect.gen(function* () {
    const text = yield* Option.match(file, { onNone: () => readStdin, onSome: readFile })
    const doc = yield* Either.mapLeft(ClassifyInput.parse(text), fail)
    const now = yield* Clock.currentTimeMillis
    const verdict = Classify.classify(ClassifyInput.toClassifyInput(doc, now))
    yield* Console.log(JSON.stringify(Classification.toJson(verdict), null, 2))
  })
