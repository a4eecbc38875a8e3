// The throwaway opencode home: a sandboxed HOME whose config dirs are seeded so no run needs the
// npm registry, a project `opencode.json` pointing Anthropic at the simulator, and `auth.json`.
import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import type { OAuthEntry, OpenCodeHome, OpenCodeHomeOptions } from "../OpenCode.js"
import * as Sandbox from "../Sandbox.js"
import { OPENCODE_VERSION } from "./opencodeBinary.js"

export const DEFAULT_MODEL = "anthropic/claude-sonnet-4-5"

const PLUGIN_PACKAGE = "@opencode-ai/plugin"

export const anthropicOAuth = (issued: {
  readonly accessToken: string
  readonly refreshToken: string | null
  readonly expiresAt: number
}): { readonly anthropic: OAuthEntry } => ({
  anthropic: {
    type: "oauth",
    refresh: issued.refreshToken ?? "",
    access: issued.accessToken,
    expires: issued.expiresAt
  }
})

export const seedConfigDir = async (dir: string): Promise<void> => {
  await mkdir(join(dir, "node_modules"), { recursive: true })
  const dependencies = { [PLUGIN_PACKAGE]: OPENCODE_VERSION }
  await writeFile(join(dir, "package.json"), `${JSON.stringify({ dependencies }, null, 2)}\n`)
  await writeFile(
    join(dir, "package-lock.json"),
    `${JSON.stringify(
      { name: basename(dir), lockfileVersion: 3, requires: true, packages: { "": { dependencies } } },
      null,
      2
    )}\n`
  )
}

const normalizeBaseURL = (raw: string): string => {
  const url = new URL(raw)
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1"
  return url.toString().replace(/\/$/, "")
}

export const makeOpenCodeHome = async (options: OpenCodeHomeOptions): Promise<OpenCodeHome> => {
  const isolated = await Sandbox.make(options.prefix ?? "tollgate-opencode-", ["project"])
  const { home, dirs } = isolated
  const project = join(home, "project")
  const configDir = join(dirs.XDG_CONFIG_HOME, "opencode")
  const dataDir = join(dirs.XDG_DATA_HOME, "opencode")
  const projectConfigDir = join(project, ".opencode")
  await Promise.all([seedConfigDir(configDir), seedConfigDir(projectConfigDir), mkdir(dataDir, { recursive: true })])

  let pluginSpec: string | undefined
  if (options.plugin !== undefined) {
    if ((options.pluginPlacement ?? "config") === "directory") {
      const target = join(projectConfigDir, "plugin", basename(options.plugin))
      await mkdir(dirname(target), { recursive: true })
      await copyFile(options.plugin, target)
      pluginSpec = target
    } else {
      pluginSpec = pathToFileURL(options.plugin).href
    }
  }
  const pluginEntry =
    pluginSpec === undefined || (options.pluginPlacement ?? "config") === "directory"
      ? undefined
      : options.pluginOptions
        ? [pluginSpec, options.pluginOptions]
        : pluginSpec
  const config = {
    $schema: "https://opencode.ai/config.json",
    provider: { anthropic: { options: { baseURL: normalizeBaseURL(options.baseURL) } } },
    model: options.model ?? DEFAULT_MODEL,
    autoupdate: false,
    share: "disabled",
    ...(pluginEntry === undefined ? {} : { plugin: [pluginEntry] }),
    ...options.config
  }
  await writeFile(join(project, "opencode.json"), `${JSON.stringify(config, null, 2)}\n`)

  const authFile = join(dataDir, "auth.json")
  if (options.auth !== undefined) {
    await writeFile(authFile, JSON.stringify(options.auth, null, 2), { mode: 0o600 })
    await chmod(authFile, 0o600)
  }

  const env: Record<string, string> = {
    ...isolated.env,
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_SHARE: "1",
    // `providers login` refreshes the models list from models.opencode.ai even with
    // OPENCODE_DISABLE_MODELS_FETCH; a closed loopback port makes that fail at once, offline.
    OPENCODE_MODELS_URL: "http://127.0.0.1:9",
    ...options.env
  }

  return {
    home,
    project,
    configDir,
    dataDir,
    authFile,
    pluginSpec,
    env,
    readAuth: async () => {
      try {
        return JSON.parse(await readFile(authFile, "utf8")) as Record<string, unknown>
      } catch {
        return null
      }
    },
    readLogs: async () => {
      const logDir = join(dataDir, "log")
      const files = (await readdir(logDir).catch(() => [] as Array<string>)).filter((f) => f.endsWith(".log")).sort()
      const texts = await Promise.all(files.map((f) => readFile(join(logDir, f), "utf8").catch(() => "")))
      return texts.join("")
    },
    cleanup: isolated.cleanup
  }
}
