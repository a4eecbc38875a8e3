import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The interop, crash and concurrency files run many processes each; on a
    // 2-core machine, running files side by side turns their timing into noise.
    fileParallelism: false
  }
})
