import { credentialStoreSuite } from "@tollgate/conformance/vitest"
import { fakeSecurity, file, keychain } from "./support/adapters.js"

credentialStoreSuite("claude-credentials: file", file, { file: true, claudeLocks: true })
credentialStoreSuite("claude-credentials: macOS Keychain (fake security tool)", keychain(fakeSecurity), {
  claudeLocks: true
})
