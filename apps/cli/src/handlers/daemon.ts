/** What `tollgate daemon run` does (its definition is in commands/daemon.ts). */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { OAuthClient, OAuthConfig } from "@tollgate/core"
import { run as runDaemon } from "@tollgate/daemon/Daemon"
import * as Paths from "@tollgate/daemon/Paths"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { log } from "../ServiceLog.js"

/** Runs the usage daemon in the foreground until a signal, which ends it with exit 0 for the service manager. */
export const run = () =>
  runDaemon({ paths: Paths.resolve(process.env), log }).pipe(
    Effect.provide(
      OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layerFromConfig()), Layer.provide(FetchHttpClient.layer))
    ),
    // A signal reaches us as an interruption, which the composition root reports
    // as exit 130. For a service manager a requested stop is a clean exit (with
    // `Restart=on-failure` / `SuccessfulExit=false` a non-zero one reads as a
    // crash), so once the daemon's finalizers have run (socket removed, lock
    // released, state saved) we leave with 0 ourselves.
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        log("tollgate daemon: stopped")
        process.exit(0)
      })
    )
  )
