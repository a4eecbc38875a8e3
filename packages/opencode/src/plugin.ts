/**
 * The opencode (1.x, V1 API) plugin entry: wires the `anthropic` auth hook to
 * the authorized fetch and the subscription login. Only the default export:
 * older loaders call every exported function.
 *
 * @since 0.1.0
 */
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Effect from "effect/Effect"
import * as AccountStore from "./AccountStore.js"
import * as AuthorizedFetch from "./AuthorizedFetch.js"
import * as DaemonForwarder from "./DaemonForwarder.js"
import { extraAccounts, switchNotifier } from "./internal/accountStatePlugin.js"
import * as SharedLogin from "./SharedLogin.js"
import * as StatusCommand from "./StatusCommand.js"
import * as SubscriptionLogin from "./SubscriptionLogin.js"

interface StoredAuth {
  readonly type: string
  readonly refresh?: string
  readonly access?: string
  readonly expires?: number
}

interface PluginInput {
  readonly client: {
    readonly auth: {
      readonly set: (options: {
        path: { id: string }
        body: { type: "oauth"; refresh: string; access: string; expires: number }
      }) => Promise<unknown>
    }
    /** opencode's SDK client (v1 shape); absent in some hosts, so always optional-chained. */
    readonly tui?: {
      readonly showToast?: (options: {
        body: { title?: string; message: string; variant: "info" | "success" | "warning" | "error" }
      }) => Promise<unknown>
    }
  }
}

const shared = (input: PluginInput) => ({
  store: AccountStore.make(),
  forwarder: DaemonForwarder.make(),
  onSwitch: switchNotifier(input)
})

// TOLLGATE_API_BASE_URL / TOLLGATE_OAUTH_BASE_URL / TOLLGATE_USER_AGENT_* from the environment.
const settings = () => Effect.runSync(OAuthConfig.fromConfig())

const server = async (input: PluginInput, options?: unknown) => ({
  // `/tollgate`: a command that has the model call the `tollgate_status` tool.
  config: StatusCommand.registerCommand,
  tool: { [StatusCommand.TOOL_NAME]: StatusCommand.tool },
  auth: {
    provider: "anthropic",
    loader: async (getAuth: () => Promise<StoredAuth | undefined>) => {
      const auth = await getAuth()
      if (auth?.type !== "oauth" || typeof auth.access !== "string") return {}
      if (auth.refresh === SharedLogin.MARKER) {
        // Shared with Claude Code: tokens come from its store; auth.json only tracks the marker + access token.
        return {
          apiKey: "",
          fetch: AuthorizedFetch.make({
            accounts: [{ type: "claude-code", location: SharedLogin.location() }, ...extraAccounts(options)],
            settings: settings(),
            ...shared(input),
            // auth.json holds the first account only; extra accounts keep their tokens in their own stores.
            persist: (tokens, account) =>
              account === 0
                ? input.client.auth.set({
                    path: { id: "anthropic" },
                    body: { type: "oauth", refresh: SharedLogin.MARKER, access: tokens.access, expires: tokens.expires }
                  })
                : undefined
          })
        }
      }
      return {
        apiKey: "",
        fetch: AuthorizedFetch.make({
          accounts: [
            { type: "oauth", access: auth.access, refresh: auth.refresh ?? null, expires: auth.expires ?? 0 },
            ...extraAccounts(options)
          ],
          settings: settings(),
          ...shared(input),
          persist: (tokens, account) =>
            account === 0
              ? input.client.auth.set({
                  path: { id: "anthropic" },
                  body: { type: "oauth", refresh: tokens.refresh ?? auth.refresh ?? "", access: tokens.access, expires: tokens.expires }
                })
              : undefined
        })
      }
    },
    methods: [
      {
        type: "oauth" as const,
        label: "Claude Pro/Max (OAuth)",
        authorize: () =>
          SubscriptionLogin.authorize({
            settings: settings(),
            authorizeUrl: process.env["TOLLGATE_AUTHORIZE_URL"] || undefined
          })
      },
      { type: "oauth" as const, label: SharedLogin.LABEL, authorize: SharedLogin.authorize },
      { type: "api" as const, label: "API key" }
    ]
  }
})

export default { id: "tollgate", server }
