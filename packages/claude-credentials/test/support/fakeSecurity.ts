// The fake macOS `security` tool (test/fixtures/security and fake-security.mjs): a Keychain kept in a JSON
// file, driven by the same command lines as the real one. Node only, no test runner, so any package's tests
// can import it as `@tollgate/claude-credentials/test/fakeSecurity` (a workspace-only export, never published).
import { chmod, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"

/** Absolute path of the fake `security` script; it reads its store, log and failure mode from FAKE_SECURITY_* vars. */
export const FAKE_SECURITY: string = fileURLToPath(new URL("../fixtures/security", import.meta.url))

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/**
 * Writes an executable `security` at `file` (its directory must exist) that runs the fake with `vars` in its
 * environment, and returns `file`. Code under test is given this path as its `securityPath`.
 */
export const writeFakeSecurity = async (file: string, vars: Record<string, string>): Promise<string> => {
  const exports = Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`)
  await writeFile(file, ["#!/bin/sh", ...exports, `exec ${shellQuote(FAKE_SECURITY)} "$@"`, ""].join("\n"))
  await chmod(file, 0o755)
  return file
}

/**
 * The vars every wrapper sets: the fake's Keychain file `store`, the `log` it appends each run and stdin line
 * to, and this process's node (so the fake runs on the test's Node, not whatever `node` is on PATH).
 */
export const fakeSecurityVars = (store: string, log: string): Record<string, string> => ({
  FAKE_SECURITY_STORE: store,
  FAKE_SECURITY_LOG: log,
  FAKE_SECURITY_NODE: process.execPath
})

/** One generic password in the fake Keychain, as `security add-generic-password -s service -a account` stores it. */
export interface FakeKeychainItem {
  readonly service: string
  readonly account: string
  readonly password: string
}

/** Writes the fake Keychain's `store` file holding exactly `items`, as another program would have left them. */
export const writeFakeKeychain = (store: string, items: ReadonlyArray<FakeKeychainItem>): Promise<void> =>
  writeFile(
    store,
    JSON.stringify({
      items: items.map(({ account, password, service }) => ({
        service,
        account,
        hex: Buffer.from(password, "utf8").toString("hex")
      }))
    })
  )
