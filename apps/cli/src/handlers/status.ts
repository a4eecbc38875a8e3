/** What `tollgate status` does (its definition is in commands/status.ts). */
import * as AccountStore from "@tollgate/requests/AccountStore"
import * as StatusCommand from "@tollgate/requests/StatusCommand"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

/** Prints the shared per-account state (cooldowns, last verdicts) that the plugin and the gateway keep. */
export const status = ({ json }: { readonly json: boolean }) =>
  Effect.gen(function* () {
    const view = yield* Effect.promise(() => StatusCommand.readState(AccountStore.defaultPath(process.env)))
    const now = yield* Clock.currentTimeMillis
    yield* Console.log(json ? JSON.stringify(view, null, 2) : StatusCommand.formatState(view, now))
  })
