/**
 * The built dispatcher's way into the CLI (build.mjs puts this module where
 * main.ts imports `./bin.js`): runs `dist/cli/<command>.cjs` for a command
 * with a bundle of its own, else `dist/cli/index.cjs` (see Dispatch.ts),
 * through a V8 code cache kept per command, since each command compiles
 * different parts of a bundle (see CompileCache.ts).
 */
import { homedir } from "node:os"
import { join } from "node:path"
import * as CompileCache from "./CompileCache.js"
import { pick } from "./Dispatch.js"

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

const chosen = pick(process.argv.slice(2), __TOLLGATE_COMMANDS__, __TOLLGATE_SLIM__, __TOLLGATE_ENTRIES__)
CompileCache.load(
  join(__dirname, "cli", `${chosen.bundle}.cjs`),
  CompileCache.directory(process.env, process.platform, home()),
  chosen.command
)
