/**
 * Which built bundle serves a command line (see build.mjs and Bundles.ts).
 *
 * The command is the first argument that names one: @effect/cli takes the
 * first word naming a subcommand as the subcommand, and words before it can
 * only be built-in options and their values (`--log-level debug doctor`).
 * A command line listed in `entries` exactly (build.mjs's ENTRIES: `daemon
 * run`, what the installed service runs) has an entry of its own without the
 * CLI around it.
 */

/** The bundle to run for `args` (the arguments after the script) and the command it runs (`index`: none). */
export const pick = (
  args: ReadonlyArray<string>,
  commands: ReadonlyArray<string>,
  slim: ReadonlyArray<string>,
  entries: ReadonlyArray<{ readonly args: ReadonlyArray<string>; readonly bundle: string }>
): { readonly bundle: string; readonly command: string } => {
  const exact = entries.find(
    (entry) => entry.args.length === args.length && entry.args.every((arg, i) => arg === args[i])
  )
  if (exact !== undefined) return { bundle: exact.bundle, command: exact.bundle }
  const command = args.find((arg) => commands.includes(arg)) ?? "index"
  return { bundle: slim.includes(command) ? command : "index", command }
}

/**
 * Whether `args` asks for the root help and nothing else (`tollgate --help`,
 * `tollgate -h`): the dispatcher prints the help build.mjs rendered from the
 * CLI itself instead of starting it.
 */
export const isRootHelp = (args: ReadonlyArray<string>): boolean =>
  args.length === 1 && (args[0] === "--help" || args[0] === "-h")
