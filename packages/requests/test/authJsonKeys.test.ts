// Where opencode's auth.json login lives and the keys its per-account state is filed under
// (moved from @tollgate/opencode's authJsonLogin.opencode.test.ts with the modules it tests).
import { fingerprint } from "@tollgate/core/Credential"
import { describe, expect, it } from "vitest"
import { accountKey, credentialFingerprint, legacyKey } from "../src/internal/accountKey.js"
import { defaultAuthFile } from "../src/internal/authFile.js"

describe("the auth.json login's place and keys", () => {
  it("auth.json is opencode's: $XDG_DATA_HOME/opencode/auth.json, else ~/.local/share/opencode/auth.json", () => {
    expect(defaultAuthFile({ XDG_DATA_HOME: "/x/data", HOME: "/h" })).toBe("/x/data/opencode/auth.json")
    expect(defaultAuthFile({ XDG_DATA_HOME: "", HOME: "/h" })).toBe("/h/.local/share/opencode/auth.json")
  })

  it("an OAuth login's state key survives a refresh; its credential fingerprint does not, and names no secret", () => {
    const before = { type: "oauth" as const, access: "sk-ant-oat01-a", refresh: "sk-ant-ort01-a", expires: 1 }
    const after = { type: "oauth" as const, access: "sk-ant-oat01-b", refresh: "sk-ant-ort01-b", expires: 2 }
    expect(accountKey(after, 0)).toBe(accountKey(before, 0))
    expect(accountKey(before, 0)).toBe("oauth:auth.json")
    expect(accountKey(before, 1)).not.toBe(accountKey(before, 0))
    expect(credentialFingerprint(after)).not.toBe(credentialFingerprint(before))
    expect(credentialFingerprint(before)).toBe(fingerprint(before.refresh))
    expect(legacyKey(before, 0)).toBe(`oauth:${fingerprint(before.refresh)}`)
    expect(legacyKey({ type: "api", key: "sk-ant-api03-k" }, 0)).toBeNull()
    for (const key of [accountKey(before, 0), legacyKey(before, 0)]) expect(key).not.toContain("sk-ant")
  })
})
