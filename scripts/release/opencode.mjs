// The real opencode loading `@tollgate/opencode@<version>` by package name from the loopback registry and
// answering from the loopback simulator. The simulator and opencode's throwaway home come from the temp
// copy's own `@tollgate/conformance` sources (through tsx), the same helpers packages/opencode/test uses.
//
// How opencode 1.18.33 finds a registry (observed against a logging HTTP server, one mechanism at a time):
// it installs npm plugins with an embedded npm (@npmcli/arborist + @npmcli/config), not with `bun add`, so
// it reads `$HOME/.npmrc` (`registry=` and `@scope:registry=` both work) and `NPM_CONFIG_REGISTRY`;
// `BUN_CONFIG_REGISTRY` and a `.npmrc` in the project directory are ignored. The test uses `$HOME/.npmrc`,
// the file a user would edit.
import { readdir, readFile, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { network, StepError, tail } from "./proc.mjs"

/** What the simulator's messages endpoint answers (packages/opencode/test/support/realOpencode.ts). */
export const REPLY = "Hello from the tollgate simulator."

/** Loads `file` (TypeScript, in the temp copy) through the temp copy's tsx. */
const loadTs = async (repo) => {
  const require = createRequire(join(repo, "package.json"))
  const manifestPath = require.resolve("tsx/package.json")
  const manifest = JSON.parse(await readFile(manifestPath, "utf8"))
  const api = await import(
    pathToFileURL(join(dirname(manifestPath), manifest.exports["./esm/api"].import.default)).href
  )
  const namespace = api.register({ namespace: "tollgate-release-test" })
  return (file) => namespace.import(pathToFileURL(join(repo, file)).href, import.meta.url)
}

/** Every `node_modules/@tollgate/opencode/package.json` under `dir` (where opencode installed the plugin). */
const findInstalled = async (dir, found = []) => {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return found
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue
    const path = join(dir, entry.name)
    if (path.endsWith(join("node_modules", "@tollgate", "opencode"))) found.push(join(path, "package.json"))
    else await findInstalled(path, found)
  }
  return found
}

/**
 * `opencode run` with `"plugin": ["@tollgate/opencode@<version>"]`, resolved through `registryUrl`.
 * Resolves to a one-line description; throws a StepError saying what went wrong.
 */
export const opencodeLoadsPublishedPlugin = async ({ repo, registryUrl, version, timeoutMs }) => {
  const load = await loadTs(repo)
  const Simulator = await load("packages/conformance/src/Simulator.ts")
  const OpenCode = await load("packages/conformance/src/OpenCode.ts")
  const binary = OpenCode.findOpenCodeBinary({})
  if (binary === undefined) {
    throw new StepError("no opencode binary: opencode-ai is not installed in the temp copy (set OPENCODE_BIN)")
  }
  const spec = `@tollgate/opencode@${version}`
  const sim = await Simulator.start({ ttlMs: timeoutMs + 30_000 })
  let home
  try {
    home = await OpenCode.makeOpenCodeHome({
      prefix: "opencode-home-",
      baseURL: `${sim.url}/v1`,
      auth: OpenCode.anthropicOAuth(sim.account),
      // The CA bundle/proxy of the machine: opencode's npm reaches the loopback registry, which reaches upstream.
      env: { ...network(), ...sim.env },
      config: { plugin: [spec] }
    })
    await writeFile(join(home.home, ".npmrc"), `registry=${registryUrl}\n`)
    const run = await OpenCode.opencodeRun({ home, binary, prompt: "hi", title: "t", timeoutMs })
    const installed = await findInstalled(home.home)
    const manifests = await Promise.all(installed.map(async (p) => JSON.parse(await readFile(p, "utf8"))))
    const versions = manifests.map((m) => m.version)
    const messages = sim.log.filter((r) => r.route === "messages")
    const why = []
    if (run.timedOut) why.push(`opencode run timed out after ${timeoutMs} ms`)
    else if (run.exitCode !== 0) why.push(`opencode run exited ${run.exitCode}`)
    if (!versions.includes(version)) {
      why.push(
        installed.length === 0
          ? `opencode did not install ${spec} anywhere under its HOME`
          : `opencode installed @tollgate/opencode ${versions.join(", ")}, not ${version}`
      )
    }
    // opencode 1.18 imports an npm plugin by its manifest's `main` and ignores `exports` (checked with a probe
    // package published both ways): without `main` the plugin is skipped without a word in its output.
    const noMain = manifests.find((m) => m.version === version && typeof m.main !== "string")
    if (noMain !== undefined) {
      why.push(
        "the published @tollgate/opencode has no `main` (opencode 1.18 loads npm plugins by `main` only): packages/opencode/package.json publishConfig"
      )
    }
    if (!run.stdout.includes(REPLY)) why.push("the simulator's reply is not on stdout")
    if (messages.length === 0) why.push("no request reached the simulator's /v1/messages (plugin not loaded?)")
    else if (messages.some((m) => m.outcome !== 200)) {
      why.push(`simulator answered ${messages.map((m) => m.outcome).join(", ")}`)
    }
    if (why.length > 0) {
      const logs = (await home.readLogs())
        .split("\n")
        .filter((l) => /plugin|tollgate|npm|install|ERROR/i.test(l))
        .slice(-15)
        .join("\n")
      throw new StepError(why.join("; "), `${tail(run.text, 15)}\n--- opencode log (plugin/install lines) ---\n${logs}`)
    }
    return `${spec} installed from the loopback registry, loaded; reply from the simulator in ${(run.durationMs / 1000).toFixed(1)} s (${messages.length} messages call(s), opencode ${OpenCode.OPENCODE_VERSION})`
  } finally {
    await home?.cleanup()
    await sim.close()
  }
}
