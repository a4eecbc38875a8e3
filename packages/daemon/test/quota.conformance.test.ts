import { usageSourceSuite } from "@tollgate/conformance/vitest"
import { usageSource } from "../src/ConformanceAdapters.js"

usageSourceSuite("daemon: quota (statusline, headers, usage endpoint)", usageSource, {
  scopeCheck: true,
  staleCheck: true,
  followsLogin: true
})
