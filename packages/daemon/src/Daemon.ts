/**
 * `tollgate daemon run`: one daemon per user, answering statuslines and
 * other adapters on a Unix socket from its quota state, persisting that state
 * so a restart shows numbers at once and keeps its backoff.
 *
 * @since 0.1.0
 */
import { Backoff, type OAuthClient } from "@tollgate/core"
import { PrivateDirectory, UnsafePath } from "@tollgate/files"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import * as Login from "./Login.js"
import type { Paths } from "./Paths.js"
import * as Protocol from "./Protocol.js"
import * as Published from "./Published.js"
import * as Quota from "./Quota.js"
import { SocketError } from "./internal/serverError.js"
import * as Server from "./Server.js"
import * as SingleInstance from "./SingleInstance.js"
import * as StateFile from "./StateFile.js"

/**
 * Why {@link run} could not start: another daemon holds the lock, the
 * socket could not be bound, or the runtime or state directory is unsafe or
 * could not be set up. Its `message` is one line to print, never a stack.
 *
 * @since 0.1.0
 */
export class DaemonError extends Schema.TaggedError<DaemonError>("@tollgate/daemon/DaemonError")("DaemonError", {
  /**
   * `already_running`: another daemon holds the lock. `socket`: binding failed.
   * `unsafe_directory`: the runtime or state directory is a symlink, not a
   * directory, or another user's (`detail` is the one line that says which).
   * `directory`: that directory, or the lock in it, could not be set up.
   */
  reason: Schema.Literal("already_running", "socket", "unsafe_directory", "directory"),
  detail: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "already_running":
        return `tollgate daemon is already running (${this.detail}); not starting a second one.`
      case "socket":
        return `tollgate daemon could not listen: ${this.detail}`
      case "unsafe_directory":
        return this.detail
      case "directory":
        return `tollgate daemon could not set up its runtime files: ${this.detail}`
    }
  }
}

// A refused directory is one line naming it (and its owner); anything else that
// stops the directory from being made is named by its errno, never a stack.
const directoryError =
  (dir: string) =>
  (error: unknown): DaemonError =>
    UnsafePath.isUnsafePath(error) || (error instanceof SocketError && error.reason === "UnsafeDirectory")
      ? new DaemonError({ reason: "unsafe_directory", detail: error.message })
      : new DaemonError({
          reason: "directory",
          detail: `${dir} (${(error as { code?: string }).code ?? String(error)})`
        })

/** What {@link run} needs: where its files go and where its log lines go. @since 0.1.0 */
export interface Options {
  readonly paths: Paths
  readonly log: (line: string) => void
  /** How long a status request waits for a poll it started. Default 30 ms: the statusline's budget is 100 ms. */
  readonly waitForPollMs?: number | undefined
}

/**
 * Answers one request. `publish` gets every status answer with the
 * `rate_limits` the request forwarded, if any.
 *
 * @since 0.1.0
 */
export const handler =
  <R>(
    quota: Quota.QuotaService<R>,
    save: Effect.Effect<void>,
    publish: (answer: Protocol.Quota, rateLimits: Protocol.Windows | undefined) => Effect.Effect<void>
  ) =>
  (request: Protocol.Request): Effect.Effect<Protocol.Reply, never, R | OAuthClient.OAuthClient> => {
    switch (request.op) {
      case "ping":
        return Effect.succeed({ v: 1, ok: true, op: "pong", pid: process.pid })
      case "status":
        return quota.status(request.rateLimits).pipe(
          Effect.tap(() => save),
          Effect.tap((answer) => publish(answer, request.rateLimits)),
          Effect.map((q): Protocol.Reply => ({ v: 1, ok: true, op: "status", quota: q }))
        )
      case "ingest-headers":
        return quota.ingestHeaders(request.headers, request.at).pipe(
          Effect.tap(() => save),
          Effect.as<Protocol.Reply>({ v: 1, ok: true, op: "ingested" })
        )
    }
  }

/**
 * Runs until interrupted (SIGTERM / SIGINT through the Effect runtime); every
 * finalizer runs: state saved, socket removed, instance lock released.
 *
 * @since 0.1.0
 */
export const run = (options: Options): Effect.Effect<void, DaemonError, OAuthClient.OAuthClient> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { paths, log } = options
      // The state directory first: where there is no XDG_RUNTIME_DIR the socket's directory is inside it.
      yield* Effect.tryPromise({
        try: () => PrivateDirectory.ensure(paths.stateDir),
        catch: directoryError(paths.stateDir)
      })
      const acquired = yield* Effect.tryPromise({
        try: () => SingleInstance.acquire(paths),
        catch: directoryError(paths.runtimeDir)
      })
      if ("running" in acquired) {
        return yield* new DaemonError({
          reason: "already_running",
          detail: `pid ${acquired.pid ?? "unknown"}, socket ${paths.socket}`
        })
      }
      yield* Effect.addFinalizer(() => Effect.promise(() => acquired.release()))

      const initial = yield* StateFile.load(paths, log)
      const backoff = yield* Backoff.make()
      const login = yield* Login.cached()
      const quota = yield* Quota.make({ login, initial, waitForPollMs: options.waitForPollMs ?? 30 }).pipe(
        Effect.provideService(Backoff.Backoff, backoff)
      )
      const save = quota.persisted.pipe(
        Effect.flatMap(({ state, changed }) => (changed ? StateFile.save(paths, state) : Effect.void)),
        Effect.catchAll((error) => Effect.sync(() => log(`tollgate daemon: ${error.message}`)))
      )
      yield* Effect.addFinalizer(() => save)

      // What statuslines read instead of asking (Protocol.Published). Removed after the server has
      // stopped (finalizers run in reverse), so no answer can bring it back.
      yield* Published.remove(paths)
      yield* Effect.addFinalizer(() => Published.remove(paths))
      let seen: string | null = null
      const publish = (answer: Protocol.Quota, rateLimits: Protocol.Windows | undefined) =>
        Effect.clockWith((clock) => clock.currentTimeMillis).pipe(
          Effect.flatMap((now) => {
            if (rateLimits && (rateLimits.fiveHour || rateLimits.sevenDay)) seen = Protocol.snapshotKey(rateLimits)
            return Published.write(paths, { v: 1, pid: process.pid, answeredAt: now, quota: answer, seen })
          }),
          Effect.catchAll((error) => Effect.sync(() => log(`tollgate daemon: ${error.message}`)))
        )

      const runtime = yield* Effect.runtime<OAuthClient.OAuthClient>()
      const answer = handler(quota, save, publish)
      yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () =>
            Server.start({
              socketPath: paths.socket,
              handle: (request) => Runtime.runPromise(runtime)(answer(request)),
              log
            }),
          catch: (error) =>
            new DaemonError({ reason: "socket", detail: error instanceof Error ? error.message : String(error) })
        }),
        (s) => Effect.promise(() => s.close())
      )
      log(`tollgate daemon: listening on ${paths.socket} (pid ${process.pid}); state in ${paths.stateFile}`)
      return yield* Effect.never
    })
  )
