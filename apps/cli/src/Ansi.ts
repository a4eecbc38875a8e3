/**
 * The colour policy and the escape-sequence stripper, free of any dependency
 * so the dispatcher (dist/tollgate.js) can apply the same policy as the CLI
 * when it prints the prerendered `--help` (see Bundles.ts).
 */

/**
 * Colour is allowed when `NO_COLOR` is unset or empty (https://no-color.org)
 * and either stdout is a terminal or `FORCE_COLOR` asks for it (any value but
 * empty, `0` or `false`, as Node and most CLIs read it).
 */
export const isEnabled = (env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): boolean => {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false
  const force = env["FORCE_COLOR"]
  if (force !== undefined && force !== "" && force !== "0" && force !== "false") return true
  return stdoutIsTTY
}

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks).
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g

/** Removes ANSI escape sequences from a string. */
export const strip = (text: string): string => text.replace(ANSI, "")
