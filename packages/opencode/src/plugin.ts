/**
 * The opencode (1.x, V1 API) plugin entry: wires the `anthropic` auth hook to
 * the authorized fetch and the subscription login, and answers `/tollgate`.
 * Only the default export: older loaders call every exported function.
 *
 * Importing this module loads nothing else: the request path (the
 * authorized fetch, Effect, the credential stores) is imported on the first
 * Anthropic request, the login flows when a login method is chosen, the
 * options' Schema when there are options, the status table when `/tollgate`
 * runs. Every `import()` below is such a deferral.
 *
 * @since 0.1.0
 */
import type * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"

// The types opencode sees are spelled out here, not taken from @tollgate/requests: the package publishes the
// bundle with no dependencies, so its plugin.d.ts must not name one.

/** The provider's `fetch` (AuthorizedFetch.AuthorizedFetch). */
type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>

/** What a login method's `callback` resolves to (SubscriptionLogin.Outcome, SharedLogin.Result). */
type LoginOutcome =
  | { readonly type: "success"; readonly refresh: string; readonly access: string; readonly expires: number }
  | { readonly type: "failed" }

/** What a login method's `authorize` resolves to (SubscriptionLogin.Authorization, SharedLogin.authorize()). */
interface Authorization {
  readonly url: string
  readonly instructions: string
  readonly method: "code" | "auto"
  readonly callback: (code: string) => Promise<LoginOutcome>
}

interface StoredAuth {
  readonly type: string
  readonly refresh?: string
  readonly access?: string
  readonly expires?: number
}

type Toast = (options: {
  body: { title?: string; message: string; variant: "info" | "success" | "warning" | "error" }
}) => Promise<unknown>

interface PluginInput {
  readonly client: {
    readonly auth: {
      readonly set: (options: {
        path: { id: string }
        body: { type: "oauth"; refresh: string; access: string; expires: number }
      }) => Promise<unknown>
    }
    /** opencode's SDK client (v1 shape); absent in some hosts, so always optional-chained. */
    readonly tui?: { readonly showToast?: Toast }
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
    /** What `/tollgate` answers through (StatusCommand.AnswerClient). */
    readonly session?: {
      readonly prompt?: (options: {
        path: { id: string }
        body: {
          noReply: true
          parts: Array<{ type: "text"; text: string; ignored: true; time: { start: number; end: number } }>
        }
      }) => Promise<unknown>
    }
  }
}

// The same strings as SharedLogin.MARKER / LABEL and StatusCommand.COMMAND_NAME / TOOL_NAME / command / tool
// (test/plugin.test.ts checks): kept here so that loading the plugin does not load those modules.
const SHARED_MARKER = "claude-code-shared"
const SHARED_LABEL = "Use my Claude Code login"
const COMMAND_NAME = "tollgate"
const TOOL_NAME = "tollgate_status"
const COMMAND = {
  description: "Show tollgate accounts, verdicts and usage",
  template: `Call the ${TOOL_NAME} tool and show its output verbatim.`
}
const TOOL_DESCRIPTION =
  "Show the Anthropic accounts tollgate signs requests with: each one's last verdict and its 5-hour and 7-day " +
  "subscription usage as last reported by the API. Takes no arguments; returns a plain-text table."

// TOLLGATE_API_BASE_URL / TOLLGATE_OAUTH_BASE_URL / TOLLGATE_USER_AGENT_* from the environment.
const settings = async () => (await import("./internal/accountStatePlugin.js")).settings()

/**
 * The AI SDK's base URL when `TOLLGATE_API_BASE_URL` redirects the API (the
 * simulator's exports): the loader's return is merged into the provider
 * options, so opencode's message requests go there too.
 */
const baseURL = async (): Promise<{ baseURL?: string }> => {
  const raw = process.env["TOLLGATE_API_BASE_URL"]
  if (raw === undefined || raw.trim() === "") return {}
  const { apiBaseUrl } = await settings()
  return { baseURL: `${apiBaseUrl}/v1` }
}

/** A `fetch` that builds the real one on its first call (a failed build is retried on the next). */
const deferredFetch = (build: () => Promise<Fetch>): Fetch => {
  let built: Promise<Fetch> | undefined
  return async (input, init) => {
    built ??= build().catch((error: unknown) => {
      built = undefined
      throw error
    })
    return (await built)(input, init)
  }
}

const server = async (input: PluginInput, options?: unknown) => {
  // Checked once, at load; a problem is told (log + toast) and the valid accounts still serve.
  const { accounts: extra, problems } =
    options === undefined
      ? { accounts: [] as ReadonlyArray<AuthorizedFetch.Login>, problems: [] }
      : (await import("@tollgate/requests/Accounts")).validate(options)
  // Not awaited: opencode answers the toast request only once every plugin has loaded (awaiting it hangs the start).
  if (problems.length > 0) void (await import("./internal/accountStatePlugin.js")).reportProblems(input, problems)

  const fetchFor = (
    first: (mod: { SharedLogin: typeof import("@tollgate/requests/SharedLogin") }) => AuthorizedFetch.Login,
    persist: AuthorizedFetch.Options["persist"]
  ) =>
    deferredFetch(async () => {
      const [AuthorizedFetchModule, AccountStore, DaemonForwarder, SharedLogin, plugin, resolved] = await Promise.all([
        import("@tollgate/requests/AuthorizedFetch"),
        import("@tollgate/requests/AccountStore"),
        import("@tollgate/requests/DaemonForwarder"),
        import("@tollgate/requests/SharedLogin"),
        import("./internal/accountStatePlugin.js"),
        settings()
      ])
      return AuthorizedFetchModule.make({
        accounts: [first({ SharedLogin }), ...extra],
        settings: resolved,
        store: AccountStore.make(),
        forwarder: DaemonForwarder.make(),
        onSwitch: plugin.switchNotifier(input),
        persist,
        authFile: (await import("@tollgate/requests/AuthFile")).defaultAuthFile()
      })
    })

  return {
    // `/tollgate`: registered here, answered in `command.execute.before` without a model call.
    config: async (config: { command?: Record<string, unknown> | undefined }) => {
      config.command ??= {}
      config.command[COMMAND_NAME] ??= { ...COMMAND }
    },
    "command.execute.before": async (hook: { command: string; sessionID: string }, _output: unknown) => {
      if (hook.command !== COMMAND_NAME) return
      const StatusCommand = await import("@tollgate/requests/StatusCommand")
      await StatusCommand.answer(input.client, hook.sessionID, { problems })
      throw new StatusCommand.Handled()
    },
    tool: {
      [TOOL_NAME]: {
        description: TOOL_DESCRIPTION,
        args: {},
        execute: async (_args: unknown, _context: unknown): Promise<string> =>
          (await import("@tollgate/requests/StatusCommand")).render({ problems })
      }
    },
    auth: {
      provider: "anthropic",
      loader: async (getAuth: () => Promise<StoredAuth | undefined>) => {
        const auth = await getAuth()
        // An API key (or anything else) is opencode's to send; only the base URL follows TOLLGATE_API_BASE_URL.
        if (auth?.type !== "oauth" || typeof auth.access !== "string") return await baseURL()
        if (auth.refresh === SHARED_MARKER) {
          // Shared with Claude Code: tokens come from its store; auth.json only tracks the marker + access token.
          return {
            apiKey: "",
            ...(await baseURL()),
            fetch: fetchFor(
              ({ SharedLogin }) => ({ type: "claude-code", location: SharedLogin.location() }),
              // auth.json holds the first account only; extra accounts keep their tokens in their own stores.
              (tokens, account) =>
                account === 0
                  ? input.client.auth.set({
                      path: { id: "anthropic" },
                      body: { type: "oauth", refresh: SHARED_MARKER, access: tokens.access, expires: tokens.expires }
                    })
                  : undefined
            )
          }
        }
        return {
          apiKey: "",
          ...(await baseURL()),
          fetch: fetchFor(
            () => ({ type: "oauth", access: auth.access!, refresh: auth.refresh ?? null, expires: auth.expires ?? 0 }),
            (tokens, account) =>
              account === 0
                ? input.client.auth.set({
                    path: { id: "anthropic" },
                    body: {
                      type: "oauth",
                      refresh: tokens.refresh ?? auth.refresh ?? "",
                      access: tokens.access,
                      expires: tokens.expires
                    }
                  })
                : undefined
          )
        }
      },
      methods: [
        {
          type: "oauth" as const,
          label: "Claude Pro/Max (OAuth)",
          authorize: async (): Promise<Authorization> =>
            (await import("@tollgate/requests/SubscriptionLogin")).authorize({
              settings: await settings(),
              authorizeUrl: process.env["TOLLGATE_AUTHORIZE_URL"] || undefined
            })
        },
        {
          type: "oauth" as const,
          label: SHARED_LABEL,
          authorize: async (): Promise<Authorization> => (await import("@tollgate/requests/SharedLogin")).authorize()
        },
        { type: "api" as const, label: "API key" }
      ]
    }
  }
}

/**
 * The plugin as opencode's loader takes it: its id and `server`, which
 * returns the `anthropic` auth hook, `/tollgate` and the `tollgate_status` tool.
 *
 * @since 0.1.0
 */
export default { id: "tollgate", server }
