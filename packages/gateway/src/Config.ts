/**
 * The gateway's accounts: `$XDG_CONFIG_HOME/tollgate/gateway.json`
 * (`{"accounts": [...]}`, the opencode plugin's account entries, checked the
 * same way), else the Claude Code login of this environment
 * (`CLAUDE_CONFIG_DIR`, else `~/.claude`; the Keychain on macOS), shared
 * under Claude Code's locks and never copied.
 *
 * @since 0.1.0
 */
import * as StoreLocation from "@tollgate/claude-credentials/StoreLocation"
import { SafeRead } from "@tollgate/files"
import * as Accounts from "@tollgate/requests/Accounts"
import type * as AuthorizedFetch from "@tollgate/requests/AuthorizedFetch"
import { homedir } from "node:os"

type Env = Readonly<Record<string, string | undefined>>

/**
 * What `load` found: the accounts to serve, one sentence per problem, and what the
 * status page may show about each.
 *
 * @since 0.1.0
 */
export interface Loaded {
  readonly accounts: ReadonlyArray<AuthorizedFetch.Login>
  /** One sentence per problem in the file (the valid accounts still serve); never a value from it. */
  readonly problems: ReadonlyArray<string>
  /** What `GET /tollgate/status` shows per account: its type and where its login lives; no secret. */
  readonly described: ReadonlyArray<Readonly<Record<string, unknown>>>
  /** The file read, `null` when there was none. */
  readonly file: string | null
}

const describe = (login: AuthorizedFetch.Login, index: number): Record<string, unknown> =>
  login.type === "claude-code"
    ? { index, type: "claude-code", store: login.location.file }
    : { index, type: login.type }

/**
 * The accounts for this environment. A file that cannot be read or parsed is
 * a problem, and the Claude Code login serves instead.
 *
 * @since 0.1.0
 */
export const load = async (file: string, env: Env = process.env): Promise<Loaded> => {
  const fallback = (problems: ReadonlyArray<string>, read: string | null): Loaded => {
    const accounts: ReadonlyArray<AuthorizedFetch.Login> = [
      {
        type: "claude-code",
        location: StoreLocation.resolve({
          CLAUDE_SECURESTORAGE_CONFIG_DIR: env["CLAUDE_SECURESTORAGE_CONFIG_DIR"],
          CLAUDE_CONFIG_DIR: env["CLAUDE_CONFIG_DIR"],
          HOME: env["HOME"] ?? homedir(),
          USER: env["USER"]
        })
      }
    ]
    return { accounts, problems, described: accounts.map(describe), file: read }
  }
  let text: string | null
  try {
    text = await SafeRead.readText(file, { maxBytes: 256 * 1024 })
  } catch (error) {
    return fallback([`${file} cannot be read (${error instanceof Error ? error.message : String(error)})`], file)
  }
  if (text === null) return fallback([], null)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return fallback([`${file} is not JSON; the Claude Code login serves instead`], file)
  }
  const validated = Accounts.validate(parsed, env)
  if (validated.accounts.length === 0)
    return fallback(
      [...validated.problems, `${file} names no usable account; the Claude Code login serves instead`],
      file
    )
  return {
    accounts: validated.accounts,
    problems: validated.problems,
    described: validated.accounts.map(describe),
    file
  }
}
