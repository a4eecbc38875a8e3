import { runtimeFetchSuite } from "@tollgate/conformance/vitest"
import { capabilities, fetchAdapter } from "../src/ConformanceAdapters.js"

runtimeFetchSuite("gateway", fetchAdapter, capabilities)
