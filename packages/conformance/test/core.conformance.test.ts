// Core's building blocks through the shared suites, as the matrix runs them.
import { CoreAdapters } from "../src/index.js"
import { classifierSuite, runtimeFetchSuite, usageSourceSuite } from "../src/vitest.js"

for (const r of CoreAdapters.registrations) {
  if (r.suite === "classifier") classifierSuite(r.adapter, r.factory, r.capabilities)
  if (r.suite === "usage-source") usageSourceSuite(r.adapter, r.factory, r.capabilities)
  if (r.suite === "runtime-fetch") runtimeFetchSuite(r.adapter, r.factory, r.capabilities)
}
