// `--profile`: where the gateway process spends its CPU. Reads a
// .cpuprofile (Chrome DevTools format, from node:inspector) and sums self
// time by function and by package, so the table says which layer costs what.
import { readFile } from "node:fs/promises"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface Entry {
  readonly name: string
  readonly selfMs: number
  readonly share: number
}

/** `…/node_modules/.pnpm/effect@3.x/node_modules/effect/dist/esm/internal/fiberRuntime.js` → `effect`; our sources by package. */
const packageOf = (url: string): string => {
  if (url === "") return "(program, gc, native)"
  if (url.startsWith("node:")) return "node core"
  const modules = url.lastIndexOf("/node_modules/")
  if (modules !== -1) {
    const rest = url.slice(modules + "/node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const pkg = /\/packages\/([^/]+)\/(src|bench)\//.exec(url)
  return pkg ? `@tollgate/${pkg[1]}${pkg[2] === "bench" ? " (bench forwarders)" : ""}` : url
}

export interface Summary {
  /** CPU time outside idle. */
  readonly busyMs: number
  readonly idleMs: number
  readonly byPackage: ReadonlyArray<Entry>
  readonly byFunction: ReadonlyArray<Entry>
}

export const summarize = async (file: string, top = 15): Promise<Summary> => {
  const profile = JSON.parse(await readFile(file, "utf8")) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const functions = new Map<string, number>()
  const packages = new Map<string, number>()
  let idle = 0
  let total = 0
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    if (functionName === "(idle)") {
      idle += us
      continue
    }
    total += us
    const where = url === "" ? "" : ` ${url.split("/").slice(-1)[0]}:${lineNumber + 1}`
    const fn = `${functionName || "(anonymous)"}${where} [${packageOf(url)}]`
    functions.set(fn, (functions.get(fn) ?? 0) + us)
    packages.set(packageOf(url), (packages.get(packageOf(url)) ?? 0) + us)
  }
  const entries = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }))
  return { busyMs: total / 1000, idleMs: idle / 1000, byPackage: entries(packages), byFunction: entries(functions) }
}
