/**
 * The argv that runs this very `tollgate` again from another program (a
 * Hermes plugin, a service manager): this node, the loader flags a source
 * checkout runs under (tsx), and this entry script — so it works the same
 * from a checkout and from the built CLI. `tollgate daemon install` and
 * `tollgate gateway install` build their service commands with it.
 */
import { resolve } from "node:path"

// A relative loader path (`--import ./node_modules/…`) is relative to this run's directory, not the other program's.
const absolute = (specifier: string): string => (/^\.\.?\//.test(specifier) ? resolve(specifier) : specifier)

// Only the loader flags: nothing else from this run's node flags belongs in another program's command.
const loaderArgs = (execArgv: ReadonlyArray<string>): Array<string> => {
  const kept: Array<string> = []
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] ?? ""
    const next = execArgv[i + 1]
    const joined = /^(--(?:import|require|loader|experimental-loader))=(.*)$/.exec(arg)
    if (joined !== null) kept.push(`${joined[1]}=${absolute(joined[2] ?? "")}`)
    else if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(arg) && next !== undefined) {
      kept.push(arg, absolute(next))
      i++
    }
  }
  return kept
}

/** `[node, ...loader flags, /absolute/entry]`, or `null` when the entry is unknown (no argv[1]). */
export const argv = (
  process_: { readonly execPath: string; readonly execArgv: ReadonlyArray<string>; readonly argv: ReadonlyArray<string> } = process
): Array<string> | null => {
  const entry = process_.argv[1]
  if (entry === undefined) return null
  return [process_.execPath, ...loaderArgs(process_.execArgv), resolve(entry)]
}
