// No secret leaks from the library in-process: refreshing (success, 429, invalid_grant, a token
// rotated elsewhere), a malformed store and a symlinked store. See support/secrets.ts for what a
// leak is and what is looked at.
import { symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  collector,
  fixtures,
  formsOf,
  leaksIn,
  library,
  locationOf,
  loginDocument,
  scanFiles,
  tagOf,
  writeStore
} from "./support/secrets.js"

const { newHome, newSim } = fixtures()

describe("no token leaks from the library", () => {
  it("the leak check finds a token in any of its forms (positive control)", () => {
    const token = "sk-ant-oat01-sim-AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    for (const [form, value] of formsOf(token)) {
      expect(leaksIn([{ where: "x", text: `before ${value} after` }], [token]).length, form).toBeGreaterThan(0)
    }
    expect(leaksIn([{ where: "x", text: "fp_0123456789abcdef sk-ant-oat01-… (redacted)" }], [token])).toEqual([])
  })

  it("the library: refresh success, 429, invalid_grant, rotated elsewhere (dead and adopted)", async () => {
    const c = collector()

    const okSim = await newSim("expired-access-token", c)
    const okHome = await newHome()
    await writeStore(okHome, loginDocument(okSim.account.accessToken, okSim.account.refreshToken))
    expect(tagOf(await library(c, "success", okSim, locationOf(okHome)))).toBe("Refreshed")
    await scanFiles(c, okHome)

    const limited = await newSim("refresh-429", c)
    const limitedHome = await newHome()
    await writeStore(limitedHome, loginDocument(limited.account.accessToken, limited.account.refreshToken))
    expect(tagOf(await library(c, "429", limited, locationOf(limitedHome)))).toBe("RateLimited")
    await scanFiles(c, limitedHome)

    const invalid = await newSim("refresh-invalid-grant", c)
    const invalidHome = await newHome()
    await writeStore(invalidHome, loginDocument(invalid.account.accessToken, invalid.account.refreshToken))
    expect(tagOf(await library(c, "invalid_grant", invalid, locationOf(invalidHome)))).toBe("LoginDead")

    const rotated = await newSim("rotated-by-another-process", c)
    const rotatedHome = await newHome()
    await writeStore(rotatedHome, loginDocument(rotated.account.accessToken, rotated.account.refreshToken))
    expect(tagOf(await library(c, "rotated, store stale", rotated, locationOf(rotatedHome)))).toBe("LoginDead")

    // Rotated elsewhere while our request was in flight: the other process writes the store
    // (without the lock), the endpoint says invalid_grant, and the re-read adopts its tokens.
    const raced = await newSim("expired-access-token", c)
    const racedHome = await newHome()
    const racedFile = await writeStore(racedHome, loginDocument(raced.account.accessToken, raced.account.refreshToken))
    raced.script("token", {
      status: 400,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error: "invalid_grant", error_description: "Refresh token not found or invalid" }),
      delayMs: 400
    })
    const elsewhere = raced.rotateElsewhere()
    c.token(elsewhere?.accessToken, elsewhere?.refreshToken)
    const pending = library(c, "rotated meanwhile", raced, locationOf(racedHome))
    while (raced.count("token") === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const doc = loginDocument(elsewhere?.accessToken ?? "", elsewhere?.refreshToken ?? null)
    await writeFile(
      racedFile,
      JSON.stringify({ ...doc, claudeAiOauth: { ...doc.claudeAiOauth, expiresAt: Date.now() + 3_600_000 } })
    )
    expect(tagOf(await pending)).toBe("Adopted")

    c.verify()
  })

  it("a malformed store and a symlinked store", async () => {
    const c = collector()
    const sim = await newSim("expired-access-token", c)
    const secretish = "sk-ant-oat01-sim-MalformedStoreTokenAbcdefghijklmn"
    const secretRefresh = "sk-ant-ort01-sim-MalformedStoreRefreshAbcdefghijkl"
    c.token(secretish, secretRefresh)

    const broken = await newHome()
    await writeStore(broken, `{"claudeAiOauth":{"accessToken":"${secretish}","refreshToken":"${secretRefresh}",`)
    expect(tagOf(await library(c, "not json", sim, locationOf(broken)))).toBe("StoreError")
    await writeStore(
      broken,
      JSON.stringify({ claudeAiOauth: { accessToken: 42, refreshToken: secretRefresh, note: secretish } })
    )
    expect(tagOf(await library(c, "malformed login", sim, locationOf(broken)))).toBe("StoreError")
    await writeStore(broken, JSON.stringify([secretish, secretRefresh]))
    expect(tagOf(await library(c, "not an object", sim, locationOf(broken)))).toBe("StoreError")

    const linked = await newHome()
    const target = join(linked.home, "elsewhere.json")
    await writeFile(target, JSON.stringify(loginDocument(sim.account.accessToken, sim.account.refreshToken)), {
      mode: 0o600
    })
    await symlink(target, join(linked.claudeDir, ".credentials.json"))
    expect(tagOf(await library(c, "symlink refused", sim, locationOf(linked)))).toBe("StoreError")
    expect(
      tagOf(await library(c, "symlink followed", sim, locationOf(linked), { platform: "linux", followSymlinks: true }))
    ).toBe("Refreshed")
    await scanFiles(c, linked, [/^elsewhere\.json$/])

    c.verify()
  })
})
