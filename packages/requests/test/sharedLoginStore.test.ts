// "Use my Claude Code login" reads Claude Code's store through
// claude-credentials, and so through Credential.parseDocument: it accepts and
// refuses exactly the files doctor, `tollgate refresh` and the daemon do.
import * as StoreLocation from "@tollgate/claude-credentials/StoreLocation"
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import * as SharedLogin from "../src/SharedLogin.js"

const ACCESS = "sk-ant-oat01-SharedLoginStoreFixture-0123"
const homes: Array<string> = []
afterEach(async () => {
  await Promise.all(homes.splice(0).map((home) => rm(home, { recursive: true, force: true })))
})

const loginWith = async (text: string) => {
  const home = await mkdtemp(join(tmpdir(), "tollgate-opencode-store-"))
  homes.push(home)
  await mkdir(join(home, ".claude"), { mode: 0o700 })
  await writeFile(join(home, ".claude", ".credentials.json"), text)
  await chmod(join(home, ".claude", ".credentials.json"), 0o600)
  return SharedLogin.login(StoreLocation.resolve({ HOME: home }))
}

const record = {
  accessToken: ACCESS,
  refreshToken: "sk-ant-ort01-x",
  expiresAt: 4_102_444_800_000,
  scopes: ["user:inference"]
}

describe("the shared Claude Code login's store", () => {
  it("accepts a store that starts with a UTF-8 byte order mark", async () => {
    expect(await loginWith(`\uFEFF${JSON.stringify({ claudeAiOauth: record })}`)).toMatchObject({
      type: "success",
      access: ACCESS
    })
  })

  it("refuses a store nested too deep to write back, without overflowing the stack", async () => {
    const deep = `${"[".repeat(6_000)}${"]".repeat(6_000)}`
    expect(await loginWith(`{"claudeAiOauth":${JSON.stringify(record)},"foreign":${deep}}`)).toEqual({ type: "failed" })
  })
})
