/**
 * `tollgate sim`: the loopback Anthropic simulator in the foreground, for
 * pointing any tollgate command (or, with `--mitm`, a real Claude Code) at it.
 */
import { Command, Options } from "@effect/cli"
import * as Lazy from "../Lazy.js"

const scenario = Options.text("scenario").pipe(
  Options.withDescription("A catalog scenario to play (see --list). Default: happy-path."),
  Options.optional
)
const portFile = Options.file("port-file").pipe(
  Options.withDescription("Write the port number to this file once listening."),
  Options.optional
)
const ttl = Options.integer("ttl").pipe(
  Options.withDescription("Stop on its own after this many seconds."),
  Options.withDefault(600)
)
const mitm = Options.boolean("mitm").pipe(
  Options.withDescription(
    "Also run an HTTPS CONNECT proxy that impersonates platform.claude.com and api.anthropic.com with a throwaway CA, for runtimes whose URLs cannot be redirected (Claude Code)."
  )
)
const credentialsDir = Options.directory("credentials-dir").pipe(
  Options.withDescription(
    "Write the simulator's login as .credentials.json (mode 0600) into this directory (created 0700; it must be yours and not a symlink), for a Claude Code or tollgate pointed at it with CLAUDE_CONFIG_DIR. Refuses to overwrite an existing file or write through a symlink."
  ),
  Options.optional
)
const list = Options.boolean("list").pipe(Options.withDescription("Name the scenario catalog and exit."))

/** The `sim` subcommand. */
export const sim = Command.make("sim", { scenario, portFile, ttl, mitm, credentialsDir, list }, (options) =>
  Lazy.handler(
    () => import("../handlers/sim.js"),
    (m) => m.sim(options)
  )
).pipe(
  Command.withDescription(
    "Run the loopback Anthropic simulator (token, usage, profile, messages) on 127.0.0.1 and print the exports that point tollgate (TOLLGATE_*) and opencode with the tollgate plugin at it."
  )
)
