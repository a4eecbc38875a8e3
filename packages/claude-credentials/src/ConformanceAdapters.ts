/**
 * The credential writer as the conformance suites drive it: the library
 * in-process against the simulator, for the file and the Keychain backend,
 * and its row in the `tollgate conformance` matrix.
 *
 * @since 0.1.0
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import type { CredentialStoreSuite, Matrix } from "@tollgate/conformance"
import { Backoff, type Credential, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ClaudeCredentials from "./ClaudeCredentials.js"
import * as KeychainStore from "./KeychainStore.js"
import * as StoreLocation from "./StoreLocation.js"

type Factory = CredentialStoreSuite.CredentialStoreFactory

const run = <A, E>(url: string, effect: Effect.Effect<A, E, OAuthClient.OAuthClient | Backoff.Backoff>) =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(Layer.effect(Backoff.Backoff, Backoff.make())),
      Effect.provide(OAuthClient.layer.pipe(Layer.provide(OAuthConfig.layer({ apiBaseUrl: url, oauthBaseUrl: url })))),
      Effect.provide(NodeHttpClient.layerUndici),
      Effect.mapError((e) => new Error(e instanceof Error ? e.message : String(e)))
    )
  )

const lock = { waitMs: 15_000 }

const locate = (configDir: string) =>
  StoreLocation.resolve({ CLAUDE_CONFIG_DIR: configDir, HOME: dirname(configDir), USER: "tollgate-test" })

/** The file backend. @since 0.1.0 */
export const file: Factory = ({ sim, configDir }) => {
  const location = locate(configDir)
  return {
    seed: async (document) => {
      await mkdir(configDir, { recursive: true })
      await writeFile(location.file, JSON.stringify(document), { mode: 0o600 })
    },
    read: async () => {
      const text = await readFile(location.file, "utf8").catch(() => null)
      return text === null ? null : (JSON.parse(text) as Record<string, unknown>)
    },
    refresh: ({ ifNeeded }) =>
      run(
        sim.url,
        ClaudeCredentials.open(location, { platform: "linux", lock }).pipe(
          Effect.flatMap((opened) => opened.refresher.refresh({ ifNeeded })),
          Effect.map((outcome) => ({ outcome: outcome._tag }))
        )
      )
  }
}

/**
 * The Keychain backend through a given `security` tool (the tests pass a
 * fake one that keeps items in `$FAKE_SECURITY_STORE`).
 *
 * @since 0.1.0
 */
export const keychain =
  (securityPath: string): Factory =>
  ({ sim, configDir }) => {
    // The fake tool keeps its items in a file beside the config dir.
    process.env["FAKE_SECURITY_STORE"] = `${dirname(configDir)}/keychain.json`
    const location = locate(configDir)
    const store = KeychainStore.make(location, { securityPath })
    return {
      seed: (document) => Effect.runPromise(store.write(document as Credential.Document)),
      read: () =>
        Effect.runPromise(store.read.pipe(Effect.map((d) => Option.getOrNull(d) as Record<string, unknown> | null))),
      refresh: ({ ifNeeded }) =>
        run(
          sim.url,
          ClaudeCredentials.open(location, { platform: "darwin", securityPath, lock }).pipe(
            Effect.flatMap((opened) => opened.refresher.refresh({ ifNeeded })),
            Effect.map((outcome) => ({ outcome: outcome._tag }))
          )
        )
    }
  }

/**
 * The rows this package adds to the `tollgate conformance` matrix.
 *
 * @since 0.1.0
 */
export const registrations: ReadonlyArray<Matrix.Registration> = [
  {
    adapter: "claude-credentials (file)",
    suite: "credential-store",
    factory: file,
    capabilities: { file: true, claudeLocks: true }
  }
]
