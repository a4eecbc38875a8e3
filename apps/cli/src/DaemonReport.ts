/**
 * The part of `tollgate doctor` about the usage daemon: whether it answers
 * on its socket and, when the statusline refuses its runtime directory (or
 * the status published in it) because it is another user's or a symlink,
 * that this is why statuslines say `daemon down`. A refused directory's
 * socket is never connected to, here as in the statusline.
 */
import * as Paths from "@tollgate/daemon/Paths"
import * as RuntimeDirectory from "@tollgate/daemon/RuntimeDirectory"
import * as SingleInstance from "@tollgate/daemon/SingleInstance"
import * as Effect from "effect/Effect"

/** Field names are part of `doctor --json`'s contract. */
export interface DaemonFacts {
  readonly daemon: {
    readonly socket: string
    readonly running: boolean
    readonly pid: number | null
    /** Why statuslines will not use the runtime directory (one line), or `null`. */
    readonly refused: string | null
  }
}

/** Gathers the facts; never fails (what cannot be checked is said in `refused`). */
export const gather: Effect.Effect<DaemonFacts> = Effect.promise(async () => {
  const paths = Paths.resolve(process.env)
  let refused: string | null
  try {
    refused = RuntimeDirectory.refusal(paths)?.message ?? null
  } catch (error) {
    refused = `cannot check ${paths.runtimeDir} (${(error as { code?: string }).code ?? String(error)})`
  }
  const answer = refused === null ? await SingleInstance.ping(paths.socket, SingleInstance.PING_TIMEOUT_MS) : null
  return { daemon: { socket: paths.socket, running: answer !== null, pid: answer?.pid ?? null, refused } }
})

/** Plain-words lines for the doctor's output. */
export const render = (facts: DaemonFacts): ReadonlyArray<readonly [string, string]> => [
  [
    "daemon",
    facts.daemon.refused !== null
      ? `down for statuslines: ${facts.daemon.refused}`
      : facts.daemon.running
        ? `running (pid ${facts.daemon.pid}, socket ${facts.daemon.socket})`
        : `not running (no answer on ${facts.daemon.socket})`
  ]
]
