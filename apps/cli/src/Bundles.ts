/**
 * The built dispatcher's way into the CLI (build.mjs puts this module where
 * main.ts imports `./bin.js`): runs `dist/cli/<command>.cjs` for a command
 * with a bundle of its own, else `dist/cli/index.cjs` (see Dispatch.ts),
 * through a V8 code cache kept per command, since each command compiles
 * different parts of a bundle (see CompileCache.ts). `tollgate --help` prints
 * `dist/cli/help.txt`, the root help build.mjs captured from index.cjs,
 * under the CLI's own colour policy.
 */
import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import * as Ansi from "./Ansi.js"
import * as CompileCache from "./CompileCache.js"
import { isRootHelp, pick } from "./Dispatch.js"

// Set by build.mjs: every command's name, those with a bundle of their own, and the command lines with an entry.
declare const __TOLLGATE_COMMANDS__: ReadonlyArray<string>
declare const __TOLLGATE_SLIM__: ReadonlyArray<string>
declare const __TOLLGATE_ENTRIES__: ReadonlyArray<{ readonly args: ReadonlyArray<string>; readonly bundle: string }>

const home = (): string | undefined => {
  try {
    return homedir()
  } catch {
    return undefined
  }
}

/** The prerendered root help (with colour), or undefined when it cannot be read: then the CLI renders it. */
const prerenderedHelp = (): string | undefined => {
  try {
    const text = readFileSync(join(__dirname, "cli", "help.txt"), "utf8")
    return text.length > 0 ? text : undefined
  } catch {
    return undefined
  }
}

const args = process.argv.slice(2)
const help = isRootHelp(args) ? prerenderedHelp() : undefined
if (help !== undefined) {
  // A reader that closes early (`tollgate --help | head`) ends the write, not the process with a stack trace.
  process.stdout.on("error", () => {})
  process.stdout.write(Ansi.isEnabled(process.env, process.stdout.isTTY === true) ? help : Ansi.strip(help))
} else {
  const chosen = pick(args, __TOLLGATE_COMMANDS__, __TOLLGATE_SLIM__, __TOLLGATE_ENTRIES__)
  CompileCache.load(
    join(__dirname, "cli", `${chosen.bundle}.cjs`),
    CompileCache.directory(process.env, process.platform, home()),
    chosen.command
  )
}
