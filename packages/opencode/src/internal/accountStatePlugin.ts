/**
 * The plugin's multi-account options and the account-switch toast, kept out of
 * plugin.ts, whose only export must be the plugin.
 */
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import { runSync } from "effect/Effect"
import type * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"
import { describe, validate } from "@tollgate/requests/Accounts"

export interface ToastInput {
  readonly client: {
    /** opencode's SDK client (v1 shape); absent in some hosts, so always optional-chained. */
    readonly tui?: {
      readonly showToast?: (options: {
        body: { title?: string; message: string; variant: "info" | "success" | "warning" | "error" }
      }) => Promise<unknown>
    }
  }
}

/**
 * Extra accounts from the plugin's options
 * (`"plugin": [["file:///…", { "accounts": [...], "strategy": "failover" }]]`), tried after the
 * auth.json login in order. `{ "type": "api", "keyEnv": "NAME" }` reads the key from the
 * environment and is preferred over `{ "type": "api", "key": "sk-ant-api…" }`, which puts a secret
 * in a config file. `{ "type": "claude-code", "configDir": "~/.claude-work" }` adds another Claude
 * Code login (the store of that config dir), shared with Claude Code exactly like "Use my Claude Code
 * login": refreshed under Claude Code's locks, its refresh token never copied. Entries that are
 * malformed or name an unset variable are left out here and reported by {@link reportProblems}
 * (`internal/options.ts` validates them with Schema).
 */
export interface PluginOptions {
  readonly accounts?: ReadonlyArray<
    | { readonly type: "api"; readonly key?: string; readonly keyEnv?: string }
    | { readonly type: "claude-code"; readonly configDir: string }
  >
  /** Only `"failover"` (the default): the first healthy account in order serves. */
  readonly strategy?: "failover"
}

/** The valid extra accounts of the options (see {@link PluginOptions}); problems are left to {@link reportProblems}. */
export const extraAccounts = (
  options: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env
): Array<AuthorizedFetch.Login> => [...validate(options, env).accounts]

/** What {@link reportProblems} needs of opencode's SDK client: `app.log` and `tui.showToast`, both optional. */
export interface LogInput extends ToastInput {
  readonly client: ToastInput["client"] & {
    readonly app?: {
      readonly log?: (options: {
        body: {
          service: string
          level: "debug" | "info" | "warn" | "error"
          message: string
          extra?: Record<string, unknown>
        }
      }) => Promise<unknown>
    }
  }
}

const settle = (call: () => unknown): Promise<void> => {
  try {
    return Promise.resolve(call()).then(
      () => undefined,
      () => undefined
    )
  } catch {
    return Promise.resolve()
  }
}

/**
 * Tells the user what is wrong with the plugin's options: one `warn` line in
 * opencode's log (service `tollgate`) and an error toast. Resolves once both
 * were attempted; never throws (the plugin keeps loading and serving the
 * valid accounts).
 */
export const reportProblems = async (input: LogInput, problems: ReadonlyArray<string>): Promise<void> => {
  if (problems.length === 0) return
  const message = describe(problems)
  await Promise.all([
    settle(() =>
      input.client.app?.log?.({
        body: { service: "tollgate", level: "warn", message, extra: { problems: [...problems] } }
      })
    ),
    settle(() =>
      input.client.tui?.showToast?.({ body: { title: "tollgate: plugin options", message, variant: "error" } })
    )
  ])
}

/** The toast for a change of serving account; never throws. */
export const switchNotifier =
  (input: ToastInput) =>
  (event: AuthorizedFetch.SwitchEvent): void => {
    try {
      const shown = input.client.tui?.showToast?.({
        body: {
          title: "tollgate",
          message: `Switched to account #${event.to + 1}: ${event.reason}`,
          variant: "warning"
        }
      })
      if (shown && typeof (shown as Promise<unknown>).catch === "function")
        (shown as Promise<unknown>).catch(() => undefined)
    } catch {
      // a toast is a courtesy
    }
  }

/**
 * The settings from the environment (`TOLLGATE_API_BASE_URL`,
 * `TOLLGATE_OAUTH_BASE_URL`, `TOLLGATE_USER_AGENT_*`). Here rather than in
 * plugin.ts, which imports lazily: a dynamically imported module keeps all its
 * exports in the bundle, so plugin.ts imports this small module, not Effect.
 */
export const settings = (): OAuthConfig.Settings => runSync(OAuthConfig.fromConfig())
