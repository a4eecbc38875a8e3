import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The opencode runs spawn a ~185 MB binary each; on a 2-core machine,
    // running files side by side turns their timing into noise.
    fileParallelism: false
  }
})
