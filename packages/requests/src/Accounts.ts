/**
 * Account entries (`{ "type": "claude-code", "configDir": "~/.claude-work" }`,
 * `{ "type": "api", "keyEnv": "NAME" }`), validated with Schema one by one:
 * the opencode plugin's options and the gateway's `gateway.json` use the same
 * list, the same checks and the same failover rules. A problem names the
 * option, never a value.
 *
 * @since 0.1.0
 */
export { describe, validate, type Validated } from "./internal/options.js"
