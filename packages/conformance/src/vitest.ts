/**
 * The suites as vitest tests: an adapter's test file calls the ones that
 * apply, in a few lines. A case the adapter lacks a capability for is
 * registered as skipped with the reason in its name — never silently dropped.
 *
 * @since 0.1.0
 */
import { describe, it } from "vitest"
import * as ClassifierSuite from "./suites/classifier.js"
import * as CredentialStoreSuite from "./suites/credentialStore.js"
import * as RuntimeFetchSuite from "./suites/runtimeFetch.js"
import * as UsageSourceSuite from "./suites/usageSource.js"
import { type Capabilities, inapplicable, runCase, type Suite } from "./Suite.js"

const register = <F, K extends string>(
  suite: Suite<F, K>,
  adapter: string,
  factory: F,
  capabilities: Capabilities<K>
): void => {
  describe(`${suite.name} suite: ${adapter}`, () => {
    for (const c of suite.cases) {
      const skip = inapplicable(suite, c, capabilities)
      const title = `${c.name} [${c.scenario}]`
      // Not applicable: the reason (the capability the adapter lacks) is in the skipped test's name.
      if (skip !== null) it.skip(`${title} — not applicable: ${skip}`, () => {})
      else it(title, () => runCase(c, factory), 90_000)
    }
  })
}

/**
 * Registers the classifier suite's cases as vitest tests for `adapter`; cases its
 * capabilities rule out are skipped with the reason.
 *
 * @since 0.1.0
 */
export const classifierSuite = (
  adapter: string,
  factory: ClassifierSuite.ClassifierFactory,
  capabilities: Capabilities<ClassifierSuite.Capability>
): void => register(ClassifierSuite.suite, adapter, factory, capabilities)

/**
 * Registers the usage-source suite's cases as vitest tests for `adapter`; cases
 * its capabilities rule out are skipped with the reason.
 *
 * @since 0.1.0
 */
export const usageSourceSuite = (
  adapter: string,
  factory: UsageSourceSuite.UsageSourceFactory,
  capabilities: Capabilities<UsageSourceSuite.Capability>
): void => register(UsageSourceSuite.suite, adapter, factory, capabilities)

/**
 * Registers the runtime-fetch suite's cases as vitest tests for `adapter`; cases
 * its capabilities rule out are skipped with the reason.
 *
 * @since 0.1.0
 */
export const runtimeFetchSuite = (
  adapter: string,
  factory: RuntimeFetchSuite.RuntimeFetchFactory,
  capabilities: Capabilities<RuntimeFetchSuite.Capability>
): void => register(RuntimeFetchSuite.suite, adapter, factory, capabilities)

/**
 * Registers the credential-store suite's cases as vitest tests for `adapter`;
 * cases its capabilities rule out are skipped with the reason.
 *
 * @since 0.1.0
 */
export const credentialStoreSuite = (
  adapter: string,
  factory: CredentialStoreSuite.CredentialStoreFactory,
  capabilities: Capabilities<CredentialStoreSuite.Capability>
): void => register(CredentialStoreSuite.suite, adapter, factory, capabilities)
