import { runtimeFetchSuite } from "@tollgate/conformance/vitest"
import { capabilities, fetchAdapter } from "../src/ConformanceAdapters.js"

runtimeFetchSuite("opencode plugin fetch", fetchAdapter, capabilities)
