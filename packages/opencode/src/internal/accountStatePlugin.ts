/**
 * The plugin's multi-account options and the account-switch toast, kept out of
 * plugin.ts, whose only export must be the plugin.
 */
import { homedir } from "node:os"
import { StoreLocation } from "@tollgate/claude-credentials"
import type * as AuthorizedFetch from "../AuthorizedFetch.js"

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
 * malformed or name an unset variable are ignored.
 */
export interface PluginOptions {
  readonly accounts?: ReadonlyArray<
    | { readonly type: "api"; readonly key?: string; readonly keyEnv?: string }
    | { readonly type: "claude-code"; readonly configDir: string }
  >
  /** Only `"failover"` (the default): the first healthy account in order serves. */
  readonly strategy?: "failover"
}

export const extraAccounts = (
  options: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env
): Array<AuthorizedFetch.Login> => {
  const list = typeof options === "object" && options !== null ? (options as { accounts?: unknown }).accounts : undefined
  if (!Array.isArray(list)) return []
  const out: Array<AuthorizedFetch.Login> = []
  const home = env["HOME"] ?? homedir()
  for (const entry of list as Array<unknown>) {
    if (typeof entry !== "object" || entry === null) continue
    const e = entry as { type?: unknown; key?: unknown; keyEnv?: unknown; configDir?: unknown }
    if (e.type === "claude-code" && typeof e.configDir === "string" && e.configDir.trim() !== "") {
      const dir = e.configDir.trim().replace(/^~(?=\/|$)/, home)
      out.push({ type: "claude-code", location: StoreLocation.resolve({ CLAUDE_CONFIG_DIR: dir, HOME: home, USER: env["USER"] }) })
      continue
    }
    if (e.type !== "api") continue
    const key = typeof e.keyEnv === "string" ? env[e.keyEnv] : typeof e.key === "string" ? e.key : undefined
    if (key !== undefined && key.trim() !== "") out.push({ type: "api", key: key.trim() })
  }
  return out
}

/** The toast for a change of serving account; never throws. */
export const switchNotifier =
  (input: ToastInput) =>
  (event: AuthorizedFetch.SwitchEvent): void => {
    try {
      const shown = input.client.tui?.showToast?.({
        body: { title: "tollgate", message: `Switched to account #${event.to + 1}: ${event.reason}`, variant: "warning" }
      })
      if (shown && typeof (shown as Promise<unknown>).catch === "function") (shown as Promise<unknown>).catch(() => undefined)
    } catch {
      // a toast is a courtesy
    }
  }

