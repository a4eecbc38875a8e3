/**
 * The edits `tollgate hermes install` makes to Hermes Agent's own files, and
 * their undoing, as pure functions of the files' text:
 *
 * - `config.yaml`: `model.provider: anthropic`, `model.base_url` at the
 *   gateway's `/anthropic` prefix (Hermes accepts a custom Anthropic base URL
 *   only when its path ends in `/anthropic`), and the plugin in
 *   `plugins.enabled` (Hermes loads user plugins only when listed there).
 *   Edited through `yaml`'s document API, so comments and every other key
 *   survive.
 * - `.env`: the gateway key as `ANTHROPIC_TOKEN` (Hermes's first token
 *   source; a key that is not shaped like an Anthropic OAuth token is used as
 *   is, never swapped for Claude Code's login).
 * - `auth.json`: `suppressed_sources.anthropic` lists `claude_code`, so the
 *   normal and pool paths never read Claude Code's login. Edited in place
 *   with `jsonc-parser`.
 *
 * Each edit records what it found (`Previous`), so an uninstall after Hermes
 * or the user changed the file removes exactly what was added and puts back
 * what was there.
 *
 * Part of the gateway package because Hermes is configured against the
 * gateway: these edits are what makes Hermes a gateway client.
 *
 * @since 0.2.0
 */
import * as Either from "effect/Either"
import {
  applyEdits,
  type Edit,
  type JSONPath,
  modify,
  parseTree,
  findNodeAtLocation,
  type ParseError,
  parse
} from "jsonc-parser"
import * as YAML from "yaml"

/** The plugin's name: its directory under `$HERMES_HOME/plugins/` and its `plugins.enabled` entry. @since 0.2.0 */
export const PLUGIN = "tollgate"
/** The `.env` variable Hermes reads first for an Anthropic credential. @since 0.2.0 */
export const ENV_VAR = "ANTHROPIC_TOKEN"
/** The credential source Hermes must not read (Claude Code's `~/.claude/.credentials.json`). @since 0.2.0 */
export const SUPPRESSED = { provider: "anthropic", source: "claude_code" } as const

/** The base URL Hermes is given: the gateway's `/anthropic` prefix. @since 0.2.0 */
export const baseUrl = (port: number): string => `http://127.0.0.1:${port}/anthropic`

/** What `config.yaml` held before install, for uninstall. @since 0.2.0 */
export interface ConfigPrevious {
  readonly modelExisted: boolean
  /** `model: <name>` (a bare string), which install turns into `model: {default: <name>, …}`. */
  readonly modelString: string | null
  readonly provider: string | null
  readonly baseUrl: string | null
  readonly enabledExisted: boolean
  readonly pluginEnabled: boolean
}

/** What `auth.json` held before install, for uninstall. @since 0.2.0 */
export interface AuthPrevious {
  readonly suppressedExisted: boolean
  readonly providerExisted: boolean
  readonly listed: boolean
}

/** A planned edit: the new text (`null` when nothing changes) and what was there. @since 0.2.0 */
export interface Planned<P> {
  readonly text: string | null
  readonly previous: P
}

const YAML_OUT: YAML.ToStringOptions = { lineWidth: 0 }

// PyYAML (what Hermes writes config.yaml with) puts a mapping's block sequence at the key's own indent.
const yamlOptions = (text: string): YAML.ToStringOptions => ({
  ...YAML_OUT,
  indentSeq: !/^([ \t]*)[^\s#][^\n]*:[ \t]*\n\1- /m.test(text)
})

// yaml's printer normalizes spacing inside a line (before an inline comment, after a colon); an
// untouched line whose words are unchanged gets its original bytes back.
const spacing = (line: string): string => {
  const indent = /^[ \t]*/.exec(line)![0]
  return (
    indent +
    line
      .slice(indent.length)
      .replace(/[ \t]+/g, " ")
      .trimEnd()
  )
}

const keepSpacing = (original: string, printed: string): string => {
  const byShape = new Map<string, string | null>()
  for (const line of original.split("\n")) {
    const shape = spacing(line)
    byShape.set(shape, byShape.has(shape) && byShape.get(shape) !== line ? null : line)
  }
  return printed
    .split("\n")
    .map((line) => byShape.get(spacing(line)) ?? line)
    .join("\n")
}

const print = (doc: YAML.Document.Parsed, original: string): string =>
  keepSpacing(original, doc.toString(yamlOptions(original)))

const parseYaml = (text: string): Either.Either<YAML.Document.Parsed, string> => {
  const doc = YAML.parseDocument(text, { keepSourceTokens: false })
  if (doc.errors.length > 0) return Either.left(`it is not valid YAML (${doc.errors[0]!.message.split("\n")[0]})`)
  if (doc.contents !== null && !YAML.isMap(doc.contents)) return Either.left("its top level is not a mapping")
  return Either.right(doc)
}

const scalarString = (node: unknown): string | null => {
  if (node === undefined || node === null) return null
  if (YAML.isScalar(node)) return node.value === null || node.value === undefined ? null : String(node.value)
  return null
}

/** Points Hermes at the gateway in `config.yaml` (`null`: no file yet). @since 0.2.0 */
export const planConfig = (text: string | null, url: string): Either.Either<Planned<ConfigPrevious>, string> =>
  Either.gen(function* () {
    const source = text ?? ""
    const doc = yield* parseYaml(source)
    const model = doc.get("model", true)
    if (
      model !== undefined &&
      model !== null &&
      !YAML.isMap(model) &&
      !(YAML.isScalar(model) && (model.value === null || typeof model.value === "string"))
    ) {
      return yield* Either.left("its `model` is neither a mapping nor a model name")
    }
    const plugins = doc.get("plugins", true)
    if (plugins !== undefined && plugins !== null && !YAML.isMap(plugins))
      return yield* Either.left("its `plugins` is not a mapping")
    const enabled = doc.getIn(["plugins", "enabled"], true)
    if (enabled !== undefined && enabled !== null && !YAML.isSeq(enabled))
      return yield* Either.left("its `plugins.enabled` is not a list")
    const listed = YAML.isSeq(enabled) && enabled.items.some((item) => scalarString(item) === PLUGIN)
    const previous: ConfigPrevious = {
      modelExisted: model !== undefined,
      modelString: YAML.isScalar(model) && typeof model.value === "string" ? model.value : null,
      provider: YAML.isMap(model) ? scalarString(model.get("provider", true)) : null,
      baseUrl: YAML.isMap(model) ? scalarString(model.get("base_url", true)) : null,
      enabledExisted: YAML.isSeq(enabled),
      pluginEnabled: listed
    }
    if (previous.provider === "anthropic" && previous.baseUrl === url && listed) return { text: null, previous }

    if (previous.modelString !== null || (YAML.isScalar(model) && model.value === null)) {
      doc.set("model", doc.createNode(previous.modelString !== null ? { default: previous.modelString } : {}))
    }
    doc.setIn(["model", "provider"], "anthropic")
    doc.setIn(["model", "base_url"], url)
    if (!listed) {
      if (YAML.isSeq(enabled)) enabled.add(doc.createNode(PLUGIN))
      else doc.setIn(["plugins", "enabled"], doc.createNode([PLUGIN]))
    }
    return { text: print(doc, source), previous }
  })

/** Undoes {@link planConfig} in a file changed since: `null` when there is nothing of ours left. @since 0.2.0 */
export const revertConfig = (
  text: string,
  url: string,
  previous: ConfigPrevious
): Either.Either<string | null, string> =>
  Either.gen(function* () {
    const doc = yield* parseYaml(text)
    let changed = false
    const model = doc.get("model", true)
    if (YAML.isMap(model)) {
      const restore = (key: string, ours: string, before: string | null) => {
        if (scalarString(model.get(key, true)) !== ours) return
        if (before === null) model.delete(key)
        else model.set(key, before)
        changed = true
      }
      restore("provider", "anthropic", previous.provider)
      restore("base_url", url, previous.baseUrl)
      const keys = model.items.map((pair) => scalarString(pair.key))
      if (
        previous.modelString !== null &&
        keys.length === 1 &&
        keys[0] === "default" &&
        scalarString(model.get("default", true)) === previous.modelString
      ) {
        doc.set("model", previous.modelString)
      } else if (!previous.modelExisted && model.items.length === 0) {
        doc.delete("model")
      }
    }
    const enabled = doc.getIn(["plugins", "enabled"], true)
    if (YAML.isSeq(enabled) && !previous.pluginEnabled) {
      const at = enabled.items.findIndex((item) => scalarString(item) === PLUGIN)
      if (at >= 0) {
        enabled.items.splice(at, 1)
        changed = true
        if (!previous.enabledExisted && enabled.items.length === 0) {
          doc.deleteIn(["plugins", "enabled"])
          const plugins = doc.get("plugins", true)
          if (YAML.isMap(plugins) && plugins.items.length === 0) doc.delete("plugins")
        }
      }
    }
    return changed ? print(doc, text) : null
  })

const ENV_LINE = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${ENV_VAR}[ \\t]*=`)

const lines = (text: string): Array<string> => (text === "" ? [] : text.replace(/\n$/, "").split("\n"))
const joined = (all: ReadonlyArray<string>): string => (all.length === 0 ? "" : `${all.join("\n")}\n`)

/** Sets `ANTHROPIC_TOKEN=<key>` in `.env`, keeping every other line; later duplicates (which would win) are dropped. @since 0.2.0 */
export const planEnv = (text: string | null, key: string): Planned<{ readonly hadVar: boolean }> => {
  const before = lines(text ?? "")
  const ours = `${ENV_VAR}=${key}`
  const hadVar = before.some((line) => ENV_LINE.test(line))
  const after: Array<string> = []
  let placed = false
  for (const line of before) {
    if (!ENV_LINE.test(line)) after.push(line)
    else if (!placed) {
      after.push(ours)
      placed = true
    }
  }
  if (!placed) after.push(ours)
  const next = joined(after)
  return { text: next === text ? null : next, previous: { hadVar } }
}

/** Undoes {@link planEnv}: our line goes, the lines the backup had for the variable come back where it was. @since 0.2.0 */
export const revertEnv = (text: string, key: string, backup: string | null): string | null => {
  const ours = `${ENV_VAR}=${key}`
  const current = lines(text)
  const at = current.findIndex((line) => line.trim() === ours)
  if (at < 0) return null
  const restored = lines(backup ?? "").filter((line) => ENV_LINE.test(line))
  current.splice(at, 1, ...restored)
  return joined(current)
}

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" } } as const

const parseAuth = (text: string): Either.Either<Record<string, unknown>, string> => {
  const errors: Array<ParseError> = []
  const value: unknown = parse(text, errors, { allowTrailingComma: false, disallowComments: true })
  if (errors.length > 0) return Either.left("it is not valid JSON")
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return Either.left("its top level is not an object")
  return Either.right(value as Record<string, unknown>)
}

const edit = (text: string, path: JSONPath, value: unknown, options: { isArrayInsertion?: boolean } = {}): string =>
  applyEdits(text, modify(text, path, value, { ...FORMAT, ...options }) as Array<Edit>)

/** Adds `claude_code` to `suppressed_sources.anthropic` in `auth.json`; a new file is a store Hermes accepts. @since 0.2.0 */
export const planAuth = (text: string | null): Either.Either<Planned<AuthPrevious>, string> =>
  Either.gen(function* () {
    const { provider, source } = SUPPRESSED
    if (text === null) {
      const fresh = { version: 1, providers: {}, suppressed_sources: { [provider]: [source] } }
      return {
        text: `${JSON.stringify(fresh, null, 2)}\n`,
        previous: { suppressedExisted: false, providerExisted: false, listed: false }
      }
    }
    const store = yield* parseAuth(text)
    const suppressed = store["suppressed_sources"]
    if (
      suppressed !== undefined &&
      (typeof suppressed !== "object" || suppressed === null || Array.isArray(suppressed))
    ) {
      return yield* Either.left("its `suppressed_sources` is not an object")
    }
    const list = (suppressed as Record<string, unknown> | undefined)?.[provider]
    if (list !== undefined && !Array.isArray(list))
      return yield* Either.left(`its \`suppressed_sources.${provider}\` is not a list`)
    const previous: AuthPrevious = {
      suppressedExisted: suppressed !== undefined,
      providerExisted: list !== undefined,
      listed: Array.isArray(list) && list.includes(source)
    }
    if (previous.listed) return { text: null, previous }
    const next = Array.isArray(list)
      ? edit(text, ["suppressed_sources", provider, -1], source, { isArrayInsertion: true })
      : edit(text, ["suppressed_sources", provider], [source])
    return { text: next, previous }
  })

/** Undoes {@link planAuth} in a file changed since: `null` when there is nothing of ours left. @since 0.2.0 */
export const revertAuth = (text: string, previous: AuthPrevious): Either.Either<string | null, string> =>
  Either.gen(function* () {
    const { provider, source } = SUPPRESSED
    yield* parseAuth(text)
    if (previous.listed) return null
    const tree = parseTree(text)
    const list = tree === undefined ? undefined : findNodeAtLocation(tree, ["suppressed_sources", provider])
    const at = list?.type === "array" ? (list.children ?? []).findIndex((item) => item.value === source) : -1
    if (at < 0) return null
    let next = edit(text, ["suppressed_sources", provider, at], undefined)
    const store = yield* parseAuth(next)
    const suppressed = store["suppressed_sources"] as Record<string, unknown>
    if (
      !previous.providerExisted &&
      Array.isArray(suppressed[provider]) &&
      (suppressed[provider] as Array<unknown>).length === 0
    ) {
      next = edit(next, ["suppressed_sources", provider], undefined)
      if (!previous.suppressedExisted && Object.keys(suppressed).length === 1)
        next = edit(next, ["suppressed_sources"], undefined)
    }
    return next
  })
