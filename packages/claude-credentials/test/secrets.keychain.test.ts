// No secret leaks from the Keychain backend, driven through the fake `security`: neither when it
// works nor when a failing add echoes the document it was given.
import { Buffer } from "node:buffer"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { TempHome } from "@tollgate/conformance/ClaudeCode"
import { describe, expect, it } from "vitest"
import { fakeSecurityVars, writeFakeSecurity } from "./support/fakeSecurity.js"
import {
  type Collector,
  collector,
  fixtures,
  hex,
  library,
  locationOf,
  loginDocument,
  scanFiles,
  tagOf
} from "./support/secrets.js"

const { newHome, newSim } = fixtures()

/** A `security` for this home: the fake, with its store and log beside the home, and `env` on top. */
const fakeSecurity = async (home: TempHome, name: string, env: Record<string, string> = {}) => {
  const dir = join(home.home, "bin", name)
  await mkdir(dir, { recursive: true })
  return writeFakeSecurity(join(dir, "security"), {
    ...fakeSecurityVars(join(home.home, "keychain.json"), join(home.home, "security.log")),
    ...env
  })
}

/** What each fake `security` run recorded about its own command line (the stdin lines carry hex by design). */
const securityStarts = async (c: Collector, home: TempHome, label: string) => {
  const text = await readFile(join(home.home, "security.log"), "utf8").catch(() => "")
  const starts = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { event: string; argv?: unknown; cmdline?: unknown })
    .filter((e) => e.event === "start")
  for (const [i, s] of starts.entries())
    c.see(`${label}: security run ${i} argv+cmdline`, JSON.stringify([s.argv, s.cmdline]))
  return starts.length
}

describe("no token leaks from the Keychain backend", () => {
  it("the Keychain backend through the fake security: success, and a failing add that echoes the secret", async () => {
    const c = collector()
    const sim = await newSim("expired-access-token", c)
    const home = await newHome()
    const location = locationOf(home)
    const working = await fakeSecurity(home, "working")
    const document = loginDocument(sim.account.accessToken, sim.account.refreshToken)
    await writeFile(
      join(home.home, "keychain.json"),
      JSON.stringify({
        items: [
          { service: location.keychainService, account: location.keychainAccount, hex: hex(JSON.stringify(document)) }
        ]
      })
    )
    expect(
      tagOf(await library(c, "keychain success", sim, location, { platform: "darwin", securityPath: working }))
    ).toBe("Refreshed")
    const stored = JSON.parse(await readFile(join(home.home, "keychain.json"), "utf8")) as {
      items: Array<{ hex: string }>
    }
    expect(Buffer.from(stored.items[0]?.hex ?? "", "hex").toString("utf8")).toContain(sim.current().accessToken)

    // The fake prints the document it was asked to store on stdout and stderr: a caller that
    // quotes the tool's output in its error would be caught here.
    const expired = loginDocument(sim.current().accessToken, sim.current().refreshToken)
    await writeFile(
      join(home.home, "keychain.json"),
      JSON.stringify({
        items: [
          { service: location.keychainService, account: location.keychainAccount, hex: hex(JSON.stringify(expired)) }
        ]
      })
    )
    const failing = await fakeSecurity(home, "failing", { FAKE_SECURITY_FAIL: "add" })
    expect(
      tagOf(await library(c, "keychain add fails", sim, location, { platform: "darwin", securityPath: failing }))
    ).toBe("RefreshNotPersisted")
    expect(await securityStarts(c, home, "keychain")).toBeGreaterThanOrEqual(4)
    await scanFiles(c, home, [/^keychain\.json$/, /^security\.log$/])

    c.verify()
  })
})
