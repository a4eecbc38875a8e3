/**
 * @tollgate/conformance — a loopback Anthropic simulator and the shared
 * suites every tollgate adapter (and any other runtime) must pass.
 *
 * @since 0.1.0
 */

/** Catalog: the named scenarios the simulator can play. @since 0.1.0 */
export * as Catalog from "./Catalog.js"
/** ClassifierSuite: checks that every scenario's first response gets the verdict the reference says. @since 0.1.0 */
export * as ClassifierSuite from "./suites/classifier.js"
/**
 * CredentialStoreSuite: checks that a credential-store writer refreshes without
 * logging Claude Code out.
 *
 * @since 0.1.0
 */
export * as CredentialStoreSuite from "./suites/credentialStore.js"
/** CoreAdapters: matrix rows for core's own building blocks. @since 0.1.0 */
export * as CoreAdapters from "./adapters/core.js"
/** Login: the login a suite hands an adapter. @since 0.1.0 */
export * as Login from "./Login.js"
/** Matrix: runs every registered adapter through its suite and reports the results. @since 0.1.0 */
export * as Matrix from "./Matrix.js"
/**
 * RuntimeFetchSuite: checks a runtime's request path refreshes safely and retries
 * only what can succeed.
 *
 * @since 0.1.0
 */
export * as RuntimeFetchSuite from "./suites/runtimeFetch.js"
/** Sandbox: the throwaway HOME every test runs a program in. @since 0.2.0 */
export * as Sandbox from "./Sandbox.js"
/** Scenario: scenarios as data, scripted responses and the verdicts they deserve. @since 0.1.0 */
export * as Scenario from "./Scenario.js"
/** Simulator: a loopback Anthropic on 127.0.0.1 that plays a scenario. @since 0.1.0 */
export * as Simulator from "./Simulator.js"
/** Suite: the shape every shared suite has, and how it runs against an adapter. @since 0.1.0 */
export * as Suite from "./Suite.js"
/** UsageSourceSuite: checks a quota source never hammers the usage endpoint. @since 0.1.0 */
export * as UsageSourceSuite from "./suites/usageSource.js"
