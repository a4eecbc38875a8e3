// Finding a runnable opencode: `$OPENCODE_BIN`, this package's `opencode-ai` dev dependency, or an
// install dir a caller names, resolved past opencode-ai's postinstall stub to the real platform binary.
import { existsSync, realpathSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import type { BinaryOptions } from "../OpenCode.js"

export const OPENCODE_VERSION = "1.18.33"

// The platform packages opencode-ai lists as optional dependencies, in the order its postinstall tries them.
const platformPackages = (): ReadonlyArray<string> => {
  const os = process.platform === "win32" ? "windows" : process.platform
  const base = `opencode-${os}-${process.arch}`
  if (process.platform === "linux" && process.arch === "x64") {
    return [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`]
  }
  if (process.platform === "linux") return [base, `${base}-musl`]
  if (process.arch === "x64") return [base, `${base}-baseline`]
  return [base]
}

const binaryName = process.platform === "win32" ? "opencode.exe" : "opencode"

// opencode-ai ships `bin/opencode.exe` as a 479-byte shell stub that only prints "postinstall
// script was not run"; its postinstall replaces it with the real (~185 MB) binary.
const isRealBinary = (path: string): boolean => {
  try {
    return statSync(path).size > 1024 * 1024
  } catch {
    return false
  }
}

/** Resolves the binary from an `opencode-ai/package.json`, with or without its postinstall having run. */
const fromManifest = (manifestPath: string): string | undefined => {
  const dir = dirname(manifestPath)
  const linked = join(dir, "bin", "opencode.exe")
  if (isRealBinary(linked)) return linked
  // pnpm without `onlyBuiltDependencies` skips the postinstall, but still installs the matching
  // platform package next to opencode-ai in its store: resolve it from opencode-ai's real path.
  const require = createRequire(realpathSync(manifestPath))
  for (const name of platformPackages()) {
    try {
      const candidate = join(dirname(require.resolve(`${name}/package.json`)), "bin", binaryName)
      if (isRealBinary(candidate)) return candidate
    } catch {
      // Not installed for this platform variant.
    }
  }
  return undefined
}

export const findOpenCodeBinary = (options: BinaryOptions = {}): string | undefined => {
  const fromEnv = process.env["OPENCODE_BIN"]
  if (fromEnv !== undefined && fromEnv !== "") return existsSync(fromEnv) ? fromEnv : undefined
  try {
    const manifest = createRequire(import.meta.url).resolve("opencode-ai/package.json")
    const found = fromManifest(manifest)
    if (found) return found
  } catch {
    // Not a dependency (yet): fall through to the install dirs.
  }
  for (const dir of options.installDirs ?? []) {
    const manifest = join(dir, "node_modules", "opencode-ai", "package.json")
    if (existsSync(manifest)) {
      const found = fromManifest(manifest)
      if (found) return found
    }
  }
  return undefined
}

export const opencodeBinary = (options: BinaryOptions = {}): string => {
  const found = findOpenCodeBinary(options)
  if (found) return found
  throw new Error(
    `opencodeBinary: no opencode found (set OPENCODE_BIN, add opencode-ai@${OPENCODE_VERSION} as a dev dependency, ` +
      `or install it in one of: ${(options.installDirs ?? []).join(", ") || "(none given)"})`
  )
}
