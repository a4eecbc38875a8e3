/** What `tollgate refresh` does (its definition is in commands/refresh.ts). */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as RecordedRefresh from "../RecordedRefresh.js"

const when = (epochMs: number | null, now: number): string => {
  if (epochMs === null) return "no expiry recorded"
  const minutes = Math.round((epochMs - now) / 60_000)
  const at = new Date(epochMs).toISOString().replace(/:\d{2}\.\d{3}Z$/, "Z")
  return minutes >= 0
    ? `valid until ${at} (in ${minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`})`
    : `expired at ${at}`
}

/** Refreshes the Claude Code login now (or only when due with `--if-needed`) and says what happened. */
export const refresh = (options: { readonly ifNeeded: boolean; readonly json: boolean }) =>
  Effect.gen(function* () {
    const recorded = yield* RecordedRefresh.run(
      (opened) => opened.refresher.refresh({ ifNeeded: options.ifNeeded }),
      (outcome, opened, now) => {
        const store =
          opened.resolved.chosen === "file"
            ? `file ${opened.location.file}`
            : `Keychain "${opened.location.keychainService}"`
        return {
          Refreshed: `Refreshed the Claude Code login in ${store}: ${when(outcome.expiresAt, now)}.`,
          Adopted: `Another process had already refreshed the login in ${store}; adopted it without a call: ${when(outcome.expiresAt, now)}.`,
          NotNeeded: `Nothing to do: the login in ${store} is ${when(outcome.expiresAt, now)}.`
        }[outcome._tag]
      }
    )
    if (recorded._tag === "Done") {
      const { opened, outcome, message } = recorded
      yield* Console.log(
        options.json
          ? JSON.stringify(
              {
                outcome: outcome._tag,
                backend: opened.resolved.chosen,
                backends: opened.resolved.present,
                why: opened.resolved.why,
                expiresAt: outcome.expiresAt,
                scopes: outcome.scopes,
                fingerprint: outcome.fingerprint,
                message
              },
              null,
              2
            )
          : message
      )
      return
    }
    const { tag, message, location } = recorded
    yield* options.json
      ? Console.log(JSON.stringify({ outcome: "Failed", error: tag, message, store: location.file }, null, 2))
      : Console.error(`tollgate refresh: ${message}`)
    return yield* Effect.fail(recorded.exit)
  })
