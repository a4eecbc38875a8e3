import { credentialStoreSuite } from "@tollgate/conformance/vitest"
import { join } from "node:path"
import { file, keychain } from "../src/ConformanceAdapters.js"

const fakeSecurity = join(import.meta.dirname, "fixtures", "security")

credentialStoreSuite("claude-credentials: file", file, { file: true, claudeLocks: true })
credentialStoreSuite("claude-credentials: macOS Keychain (fake security tool)", keychain(fakeSecurity), {
  claudeLocks: true
})
