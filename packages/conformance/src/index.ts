/**
 * @tollgate/conformance — a loopback Anthropic simulator and the shared
 * suites every tollgate adapter (and any other runtime) must pass.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Catalog from "./Catalog.js"
/** @since 0.1.0 */
export * as ClassifierSuite from "./suites/classifier.js"
/** @since 0.1.0 */
export * as CredentialStoreSuite from "./suites/credentialStore.js"
/** @since 0.1.0 */
export * as CoreAdapters from "./adapters/core.js"
/** @since 0.1.0 */
export * as Login from "./Login.js"
/** @since 0.1.0 */
export * as Matrix from "./Matrix.js"
/** @since 0.1.0 */
export * as RuntimeFetchSuite from "./suites/runtimeFetch.js"
/** @since 0.2.0 */
export * as Sandbox from "./Sandbox.js"
/** @since 0.1.0 */
export * as Scenario from "./Scenario.js"
/** @since 0.1.0 */
export * as Simulator from "./Simulator.js"
/** @since 0.1.0 */
export * as Suite from "./Suite.js"
/** @since 0.1.0 */
export * as UsageSourceSuite from "./suites/usageSource.js"
