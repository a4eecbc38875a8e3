// The loopback npm registry: Verdaccio on 127.0.0.1 with a throwaway config and storage. `@tollgate/*` lives
// only here (publishable, never proxied, so nothing can come from the public registry by mistake); every
// other package is proxied to the upstream registry so the published packages' declared dependencies resolve.
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { createServer } from "node:net"
import { dirname, join } from "node:path"
import { spawnTracked, StepError, tail } from "./proc.mjs"

/** A port the kernel just handed out on 127.0.0.1 (closed again, for Verdaccio to bind). */
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const configYaml = ({ storage, htpasswd, upstream }) => `storage: ${JSON.stringify(storage)}
auth:
  htpasswd:
    file: ${JSON.stringify(htpasswd)}
    max_users: 10
uplinks:
  upstream:
    url: ${JSON.stringify(upstream)}
    timeout: 60s
    max_fails: 5
packages:
  "@tollgate/*":
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  "**":
    access: $all
    publish: $authenticated
    proxy: upstream
web:
  enable: false
server:
  keepAliveTimeout: 60
log: { type: stdout, format: pretty, level: warn }
`

/** Where Verdaccio's executable is, resolved from the repository running this test (a devDependency). */
const verdaccioBin = async (repoRoot) => {
  const require = createRequire(join(repoRoot, "package.json"))
  const manifestPath = require.resolve("verdaccio/package.json")
  const manifest = JSON.parse(await readFile(manifestPath, "utf8"))
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin.verdaccio
  return { path: join(dirname(manifestPath), bin), version: manifest.version }
}

/**
 * Starts Verdaccio under `dir` with `env`; resolves once `/-/ping` answers. Returns `{ url, version, stop }`.
 */
export const startRegistry = async ({ repoRoot, dir, env, upstream, timeoutMs = 60_000 }) => {
  await mkdir(join(dir, "storage"), { recursive: true })
  const config = join(dir, "config.yaml")
  await writeFile(config, configYaml({ storage: join(dir, "storage"), htpasswd: join(dir, "htpasswd"), upstream }))
  const bin = await verdaccioBin(repoRoot)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}/`
  const child = spawnTracked(process.execPath, [bin.path, "--config", config, "--listen", `127.0.0.1:${port}`], {
    cwd: dir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.setEncoding("utf8").on("data", (c) => (output += c))
  child.stderr.setEncoding("utf8").on("data", (c) => (output += c))
  let exited = null
  child.once("exit", (code, signal) => (exited = signal ?? code))
  const stop = () =>
    new Promise((resolve) => {
      if (exited !== null) return resolve()
      child.once("exit", () => resolve())
      try {
        process.kill(-child.pid, "SIGTERM")
      } catch {
        resolve()
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL")
        } catch {
          // Gone.
        }
      }, 3_000).unref()
    })

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited !== null)
      throw new StepError(`verdaccio ${bin.version} exited (${exited}) before answering`, tail(output))
    try {
      const response = await fetch(new URL("-/ping", url), { signal: AbortSignal.timeout(2_000) })
      if (response.ok) return { url, version: bin.version, stop, output: () => output }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  await stop()
  throw new StepError(`verdaccio ${bin.version} did not answer /-/ping on ${url} within ${timeoutMs} ms`, tail(output))
}

/** Creates a user on the registry (CouchDB-style login npm uses) and returns its bearer token. */
export const createUser = async (url, name, password) => {
  const response = await fetch(new URL(`-/user/org.couchdb.user:${encodeURIComponent(name)}`, url), {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, type: "user", roles: [] })
  })
  const body = await response.json().catch(() => ({}))
  if (!response.ok || typeof body.token !== "string") {
    throw new StepError(`creating the registry user answered ${response.status} (no token)`)
  }
  return body.token
}

/** The registry's manifest ("packument") of `name`, or `undefined` when it has none. */
export const packument = async (url, name) => {
  const response = await fetch(new URL(name.replace("/", "%2f"), url))
  if (response.status === 404) return undefined
  if (!response.ok) throw new StepError(`GET ${name} from the loopback registry answered ${response.status}`)
  return response.json()
}
