/** What `tollgate sim` does (its definition is in commands/sim.ts). */
import * as FileSystem from "@effect/platform/FileSystem"
import { Catalog, Simulator } from "@tollgate/conformance"
import { startMitm } from "@tollgate/conformance/Mitm"
import { AtomicFile, PrivateDirectory, UnsafePath } from "@tollgate/files"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { lstatSync } from "node:fs"
import { join } from "node:path"
import * as UsageError from "../UsageError.js"

const storedLogin = (issued: Simulator.Issued) => ({
  accessToken: issued.accessToken,
  refreshToken: issued.refreshToken,
  expiresAt: issued.expiresAt,
  scopes: issued.scopes,
  subscriptionType: issued.subscriptionType,
  rateLimitTier: issued.rateLimitTier
})

/**
 * What points opencode at the simulator. The tollgate plugin's OAuth logins
 * follow `TOLLGATE_API_BASE_URL` (its auth loader sets the provider's
 * `baseURL`), but opencode sends everything else — an API-key login, opencode
 * without the plugin — to the provider's `baseURL`: `OPENCODE_CONFIG_CONTENT`
 * (config opencode merges over its files) sets it for every login.
 * `TOLLGATE_AUTHORIZE_URL` is the "Claude Pro/Max (OAuth)" login's page.
 */
export const opencodeExports = (url: string): ReadonlyArray<string> => [
  "# opencode: the OAuth login's page, and the Anthropic provider's baseURL for every login:",
  `export TOLLGATE_AUTHORIZE_URL=${url}/oauth/authorize`,
  `export OPENCODE_CONFIG_CONTENT='${JSON.stringify({ provider: { anthropic: { options: { baseURL: `${url}/v1` } } } })}'`
]

const listCatalog = Console.log(
  [`${Catalog.catalog.length} scenarios:`, ...Catalog.catalog.map((s) => `  ${s.name.padEnd(32)} ${s.summary}`)].join(
    "\n"
  )
)

/** Serves the loopback Anthropic simulator (one scenario, or the catalog listed) and prints how to point clients at it. */
export const sim = (options: {
  readonly scenario: Option.Option<string>
  readonly portFile: Option.Option<string>
  readonly ttl: number
  readonly mitm: boolean
  readonly credentialsDir: Option.Option<string>
  readonly list: boolean
}) =>
  options.list
    ? listCatalog
    : Effect.gen(function* () {
        const name = Option.getOrElse(options.scenario, () => "happy-path")
        if (!Catalog.catalog.some((s) => s.name === name)) {
          return yield* new UsageError.UsageError({
            command: "tollgate sim",
            detail: `unknown scenario "${name}"; \`tollgate sim --list\` names them`
          })
        }
        if (options.ttl <= 0) {
          return yield* new UsageError.UsageError({
            command: "tollgate sim",
            detail: "--ttl must be a positive number of seconds"
          })
        }
        const fs = yield* FileSystem.FileSystem
        const server = yield* Effect.acquireRelease(
          Effect.promise(() => Simulator.start({ scenario: name, ttlMs: options.ttl * 1000 })),
          (s) => Effect.promise(() => s.close())
        )
        const lines = [
          `# tollgate simulator: scenario ${name}, stops in ${options.ttl} s (Ctrl-C to stop sooner)`,
          `export TOLLGATE_API_BASE_URL=${server.env.TOLLGATE_API_BASE_URL}`,
          `export TOLLGATE_OAUTH_BASE_URL=${server.env.TOLLGATE_OAUTH_BASE_URL}`,
          ...opencodeExports(server.url)
        ]
        if (options.mitm) {
          const dir = yield* fs.makeTempDirectoryScoped({ prefix: "tollgate-mitm-" })
          const proxy = yield* Effect.acquireRelease(
            Effect.promise(() => startMitm({ handler: server.listener, dir, ttlMs: options.ttl * 1000 })),
            (p) => Effect.promise(() => p.close())
          )
          lines.push("# for Claude Code (the CA lives in a temp dir and is never installed):")
          for (const [key, value] of Object.entries(proxy.env)) lines.push(`export ${key}=${value}`)
        }
        if (Option.isSome(options.credentialsDir)) {
          const dir = options.credentialsDir.value.replace(/(.)\/+$/, "$1")
          const file = join(dir, ".credentials.json")
          const refuse = (detail: string) => new UsageError.UsageError({ command: "tollgate sim", detail })
          // Never clobber a store, nor write through a link (a dangling one would create its target):
          // this option is for throwaway config dirs, made 0700 like Claude Code's own.
          yield* Effect.tryPromise({
            try: async () => {
              await PrivateDirectory.ensure(dir, { tighten: false })
              await AtomicFile.create(
                file,
                `${JSON.stringify({ claudeAiOauth: storedLogin(server.account) }, null, 2)}\n`,
                { mode: 0o600 }
              )
            },
            catch: (error) =>
              refuse(
                UnsafePath.isUnsafePath(error)
                  ? error.message
                  : (error as { code?: string }).code === "EEXIST"
                    ? lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()
                      ? `${file} is a symlink; refusing to write through it`
                      : `${file} exists; refusing to overwrite it`
                    : `cannot write ${file} (${(error as { code?: string }).code ?? String(error)})`
              )
          })
          lines.push(`# login written to ${file}`)
        }
        if (Option.isSome(options.portFile)) yield* fs.writeFileString(options.portFile.value, `${server.port}\n`)
        yield* Console.log(lines.join("\n"))
        yield* Effect.promise(() => server.closed)
        yield* Console.error(`tollgate sim: stopped after ${server.log.length} requests`)
      }).pipe(Effect.scoped)
