// The credential writer as the conformance suite drives it: the library
// in-process against the simulator, for the file and the Keychain backend.
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import type { CredentialStoreSuite } from "@tollgate/conformance"
import { Backoff, Credential, OAuthClient, OAuthConfig } from "@tollgate/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ClaudeCredentials from "../../src/ClaudeCredentials.js"
import * as KeychainStore from "../../src/KeychainStore.js"
import * as StoreLocation from "../../src/StoreLocation.js"

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

/** The file backend. */
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

/** The Keychain backend, through the fake `security` tool (this is Linux). */
export const keychain =
  (securityPath: string): Factory =>
  ({ sim, configDir }) => {
    // The fake tool keeps its items in a file beside the config dir.
    process.env["FAKE_SECURITY_STORE"] = join(dirname(configDir), "keychain.json")
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

export const fakeSecurity = join(import.meta.dirname, "..", "fixtures", "security")
