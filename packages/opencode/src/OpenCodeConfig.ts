/**
 * Which opencode config file `tollgate opencode install` edits, and the edit
 * itself: a `jsonc-parser` edit of the `plugin` list that leaves every other
 * byte (comments, formatting, key order) as it was.
 *
 * Where opencode 1.18.33 reads its config (checked against the binary with
 * `opencode debug config`):
 * - Global (`$XDG_CONFIG_HOME/opencode`, else `~/.config/opencode`):
 *   `config.json`, then `opencode.json`, then `opencode.jsonc`, deep-merged in
 *   that order with arrays replaced, so the `plugin` list that counts is the
 *   one of the last file that has a `plugin` key. When none of the three
 *   exists, opencode creates `opencode.jsonc` itself on its first start.
 * - Project: `opencode.json` and `opencode.jsonc` in every directory from the
 *   worktree root down to the cwd, and the same two names in `.opencode/`;
 *   their `plugin` lists are concatenated.
 * - Both parse as JSON with comments and trailing commas; a file that does not
 *   parse makes opencode drop the global config or stop.
 *
 * This is the installer's half of the package, not part of the published
 * plugin: a workspace-only export (`@tollgate/opencode/OpenCodeConfig`) that
 * the CLI's esbuild bundle inlines, with `jsonc-parser`, so the plugin's
 * tarball stays one dependency-free bundle. It lives here because the file
 * it edits is the one that loads this package's plugin.
 *
 * @since 0.2.0
 */
import * as Either from "effect/Either"
// The ES module build: the UMD entry ("main") requires its parts dynamically, which esbuild cannot bundle.
import * as Jsonc from "jsonc-parser/lib/esm/main.js"

/** The global config files, from the one that wins to the one that loses. @since 0.2.0 */
export const GLOBAL_NAMES = ["opencode.jsonc", "opencode.json", "config.json"] as const

/** The file a global install creates when there is none (as opencode itself does). @since 0.2.0 */
export const GLOBAL_NEW = "opencode.jsonc"

/** The project config files, relative to the project directory, in the order opencode's own editor picks them. @since 0.2.0 */
export const PROJECT_NAMES = [
  "opencode.json",
  "opencode.jsonc",
  ".opencode/opencode.json",
  ".opencode/opencode.jsonc"
] as const

/** The file a project install creates when there is none. @since 0.2.0 */
export const PROJECT_NEW = "opencode.json"

/** Parse options matching opencode's. */
const PARSE: Jsonc.ParseOptions = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true }

/** One candidate file as read: `text` is `null` when it does not exist. @since 0.2.0 */
export interface Candidate {
  readonly path: string
  readonly text: string | null
}

/** A candidate that exists and parses. @since 0.2.0 */
export interface Parsed {
  readonly path: string
  readonly text: string
  readonly config: Record<string, unknown>
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const lineColumn = (text: string, offset: number): string => {
  const before = text.slice(0, offset).split("\n")
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`
}

/**
 * Parses a config file as opencode does (JSONC, trailing commas). Left: why it
 * cannot be edited, in words; nothing is ever written to such a file.
 * @since 0.2.0
 */
export const parse = (text: string): Either.Either<Record<string, unknown>, string> => {
  if (text.trim() === "") return Either.right({})
  const errors: Array<Jsonc.ParseError> = []
  const value: unknown = Jsonc.parse(text, errors, PARSE)
  const first = errors[0]
  if (first !== undefined) {
    return Either.left(
      `it does not parse as JSON with comments (${Jsonc.printParseErrorCode(first.error)} at ${lineColumn(text, first.offset)})`
    )
  }
  if (!isObject(value)) return Either.left("it parses, but is not an object")
  return Either.right(value)
}

// An entry is a spec string or `[spec, options]`.
const specOf = (entry: unknown): unknown => (Array.isArray(entry) ? entry[0] : entry)

/**
 * Whether a plugin spec is tollgate's: the bundle by its file name (any
 * checkout, any version) or the `@tollgate/opencode` package.
 * @since 0.2.0
 */
export const isTollgateSpec = (spec: unknown): boolean =>
  typeof spec === "string" &&
  (/(^|[/\\])tollgate-opencode\.js$/.test(spec) || /^@tollgate\/opencode(@[^/]*)?$/.test(spec))

const hasTollgate = (config: Record<string, unknown>): boolean =>
  Array.isArray(config["plugin"]) && config["plugin"].some((entry) => isTollgateSpec(specOf(entry)))

/** The plugin's npm package; opencode installs a plugin listed by package name itself. @since 0.2.0 */
export const PACKAGE = "@tollgate/opencode"

/**
 * The entry `tollgate opencode install` writes by default: the package pinned
 * to `version`, the CLI's own. Pinned rather than a range: opencode installs a
 * listed package once and keeps it, so a range would not bring updates
 * anyway, and the plugin and the CLI share on-disk formats (the account state
 * file, the credential locks) — the pair released together is the pair
 * tested together. Installing again after upgrading the CLI moves the pin.
 * @since 0.2.0
 */
export const packageSpec = (version: string): string => `${PACKAGE}@${version}`

/** The file to edit and why it is that one. @since 0.2.0 */
export interface Target {
  readonly path: string
  readonly parsed: Parsed | null
  readonly why: string
}

/**
 * Reads every candidate once: Left names the first one that exists but does
 * not parse (opencode cannot read it either, so no install can work).
 */
const parseAll = (candidates: ReadonlyArray<Candidate>): Either.Either<Array<Parsed>, string> => {
  const out: Array<Parsed> = []
  for (const c of candidates) {
    if (c.text === null) continue
    const config = parse(c.text)
    if (Either.isLeft(config)) return Either.left(`not changing ${c.path}: ${config.left}; fix or move it first`)
    out.push({ path: c.path, text: c.text, config: config.right })
  }
  return Either.right(out)
}

/**
 * Picks the global file: the winning file that has a `plugin` key (a `plugin`
 * in a losing file is ignored by opencode), else the winning file, else a new
 * `opencode.jsonc`. `candidates` follow {@link GLOBAL_NAMES}.
 * @since 0.2.0
 */
export const pickGlobal = (candidates: ReadonlyArray<Candidate>, fresh: string): Either.Either<Target, string> =>
  Either.map(parseAll(candidates), (files) => {
    const withPlugin = files.find((f) => f.config["plugin"] !== undefined)
    if (withPlugin !== undefined) {
      return { path: withPlugin.path, parsed: withPlugin, why: "the global file whose plugin list opencode uses" }
    }
    const first = files[0]
    if (first !== undefined) return { path: first.path, parsed: first, why: "the global file opencode reads last" }
    return { path: fresh, parsed: null, why: "new; the name opencode itself creates" }
  })

/**
 * Picks the project file: one that already lists tollgate (so an update never
 * adds a second copy), else the first that exists, else a new
 * `opencode.json`. `candidates` follow {@link PROJECT_NAMES}.
 * @since 0.2.0
 */
export const pickProject = (candidates: ReadonlyArray<Candidate>, fresh: string): Either.Either<Target, string> =>
  Either.map(parseAll(candidates), (files) => {
    const listed = files.find((f) => hasTollgate(f.config))
    if (listed !== undefined) return { path: listed.path, parsed: listed, why: "it already lists tollgate" }
    const first = files[0]
    if (first !== undefined) return { path: first.path, parsed: first, why: "the project's config file" }
    return { path: fresh, parsed: null, why: "new" }
  })

/**
 * Tollgate entries other than `spec` that opencode would also load, from the
 * files of one scope (`global`: only the file whose plugin list wins), minus
 * `except`. opencode keeps one copy per `file://` URL only, so a bundle from
 * another checkout loads as a second plugin.
 * @since 0.2.0
 */
export const otherCopies = (
  candidates: ReadonlyArray<Candidate>,
  scope: "global" | "project",
  spec: string,
  except: string
): Array<{ readonly path: string; readonly spec: string }> => {
  const files = candidates.flatMap((c) => {
    if (c.text === null || c.path === except) return []
    const config = parse(c.text)
    return Either.isRight(config) ? [{ path: c.path, config: config.right }] : []
  })
  const loaded = scope === "global" ? files.filter((f) => f.config["plugin"] !== undefined).slice(0, 1) : files
  return loaded.flatMap((f) =>
    (Array.isArray(f.config["plugin"]) ? f.config["plugin"] : [])
      .map(specOf)
      .filter((s): s is string => isTollgateSpec(s) && s !== spec)
      .map((s) => ({ path: f.path, spec: s }))
  )
}

/** What install will do to one file. @since 0.2.0 */
export interface Plan {
  readonly before: ReadonlyArray<unknown> | undefined
  readonly after: ReadonlyArray<unknown>
  /** The new file text, or `null` when the plugin is already listed as it should be. */
  readonly text: string | null
}

const formatting = (text: string): Jsonc.FormattingOptions => {
  const indent = /^([ \t]+)\S/m.exec(text)?.[1]
  return {
    insertSpaces: indent === undefined || !indent.startsWith("\t"),
    tabSize: indent === undefined || indent.startsWith("\t") ? 2 : indent.length,
    eol: text.includes("\r\n") ? "\r\n" : "\n"
  }
}

const end = (node: Jsonc.Node): number => node.offset + node.length

const indentAt = (text: string, offset: number): string => {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))![0]
}

/**
 * Inserts `content` as the next item after `last` (a property or an array
 * element). When `last` ends its line, the new item goes on a line of its own
 * after that line, so a comment trailing `last` stays beside it; otherwise
 * right after it.
 */
const appendAfter = (text: string, last: Jsonc.Node, content: string, eol: string): Array<Jsonc.Edit> => {
  let i = end(last)
  let comma = false
  for (;;) {
    while (text[i] === " " || text[i] === "\t") i++
    if (text[i] === "," && !comma) {
      comma = true
      i++
    } else if (text.startsWith("/*", i)) {
      const close = text.indexOf("*/", i + 2)
      if (close < 0 || text.slice(i, close).includes("\n")) break
      i = close + 2
    } else break
  }
  if (text.startsWith("//", i)) i = text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i)
  if (text[i] === "\r" && text[i + 1] === "\n") i++
  if (text[i] !== "\n") return [{ offset: end(last), length: 0, content: `, ${content}` }]
  return [
    ...(comma ? [] : [{ offset: end(last), length: 0, content: "," }]),
    { offset: i + 1, length: 0, content: `${indentAt(text, last.offset)}${content}${eol}` }
  ]
}

/**
 * Plans the edit of one file (`parsed` null: a new file). The first tollgate
 * entry is pointed at `spec` (its options kept), further tollgate entries are
 * removed, and otherwise `spec` is appended; every other entry and every byte
 * outside the edited spans stay as they were. Left: why the file must not be
 * touched.
 * @since 0.2.0
 */
export const plan = (parsed: Parsed | null, spec: string): Either.Either<Plan, string> => {
  if (parsed === null || parsed.text.trim() === "") {
    const config = { $schema: "https://opencode.ai/config.json", ...parsed?.config, plugin: [spec] }
    return Either.right({ before: undefined, after: [spec], text: `${JSON.stringify(config, null, 2)}\n` })
  }
  const { text, config } = parsed
  const before = config["plugin"]
  if (before !== undefined && !Array.isArray(before)) {
    return Either.left(`its "plugin" is not a list (${JSON.stringify(before)}); fix it first`)
  }
  const list: ReadonlyArray<unknown> = before ?? []
  const ours = list.flatMap((entry, i) => (isTollgateSpec(specOf(entry)) ? [i] : []))
  const eol = formatting(text).eol ?? "\n"
  const quoted = JSON.stringify(spec)
  const root = Jsonc.parseTree(text, [], PARSE)!
  // Edits are made on the exact spans of the parse tree, so every other byte stays.
  const edits: Array<Jsonc.Edit> = []
  const array = Jsonc.findNodeAtLocation(root, ["plugin"])
  if (array === undefined) {
    const props = root.children ?? []
    const last = props[props.length - 1]
    if (last === undefined) {
      edits.push(...Jsonc.modify(text, ["plugin"], [spec], { formattingOptions: formatting(text) }))
    } else {
      edits.push(...appendAfter(text, last, `"plugin": [${quoted}]`, eol))
    }
  } else {
    const items = array.children ?? []
    if (ours.length === 0) {
      const last = items[items.length - 1]
      if (last === undefined) edits.push({ offset: array.offset + 1, length: 0, content: quoted })
      else edits.push(...appendAfter(text, last, quoted, eol))
    } else {
      const [keep, ...extra] = ours as [number, ...Array<number>]
      const node = items[keep]!
      const specNode = node.type === "array" ? node.children![0]! : node
      if (specNode.value !== spec) edits.push({ offset: specNode.offset, length: specNode.length, content: quoted })
      // A further tollgate entry goes with the separator before it (the previous item stays as it was).
      for (const i of extra)
        edits.push({ offset: end(items[i - 1]!), length: end(items[i]!) - end(items[i - 1]!), content: "" })
    }
  }
  const next = Jsonc.applyEdits(text, edits)
  if (next === text) return Either.right({ before: list, after: list, text: null })
  // The edit is checked by reading it back, as opencode will.
  const reread = parse(next)
  const after = Either.isRight(reread) ? reread.right["plugin"] : undefined
  if (!Array.isArray(after) || !after.some((entry) => specOf(entry) === spec)) {
    return Either.left("the edit did not produce a readable plugin list; add the plugin by hand")
  }
  return Either.right({ before, after, text: next })
}

/** The span of `text` from `start` to `end` when it holds nothing but blanks and comments. */
const blank = (text: string, start: number, end: number): boolean =>
  /^(?:\s|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*$/.test(text.slice(start, end))

/**
 * Takes item `index` out of the plugin list: with what separates it from the
 * next item, or for the last one with the comma before it, and with its own
 * line when it stands alone on one, so a comment beside another item stays
 * with that item (jsonc-parser's own removal drops it).
 */
const removeItem = (text: string, index: number): string => {
  const items = Jsonc.findNodeAtLocation(Jsonc.parseTree(text, [], PARSE)!, ["plugin"])!.children!
  const item = items[index]!
  const next = items[index + 1]
  if (next !== undefined) return text.slice(0, item.offset) + text.slice(next.offset)
  const lineStart = text.lastIndexOf("\n", item.offset - 1) + 1
  const newline = text.indexOf("\n", end(item))
  const lineEnd = newline < 0 ? text.length : newline + 1
  const ownLine = blank(text, lineStart, item.offset) && blank(text, end(item), lineEnd)
  const [from, to] = ownLine ? [lineStart, lineEnd] : [item.offset, end(item)]
  const prev = items[index - 1]
  if (prev === undefined) return text.slice(0, from) + text.slice(to)
  const comma = text.indexOf(",", end(prev))
  if (ownLine) return text.slice(0, comma) + text.slice(comma + 1, from) + text.slice(to)
  return text.slice(0, comma) + text.slice(to)
}

/**
 * Plans taking every tollgate entry (a package spec or a bundle, in any form
 * {@link isTollgateSpec} knows) out of one file, every other byte kept;
 * `text` is `null` when the file lists none. Left: why the file must not be
 * touched.
 * @since 0.2.0
 */
export const planRemove = (parsed: Parsed): Either.Either<Plan, string> => {
  const { text, config } = parsed
  const before = config["plugin"]
  if (!Array.isArray(before)) return Either.right({ before: undefined, after: [], text: null })
  const ours = before.flatMap((entry, i) => (isTollgateSpec(specOf(entry)) ? [i] : []))
  if (ours.length === 0) return Either.right({ before, after: before, text: null })
  // From the last to the first, so each index still names the same entry.
  const next = ours.reverse().reduce(removeItem, text)
  const kept = before.filter((entry) => !isTollgateSpec(specOf(entry)))
  const reread = parse(next)
  const after = Either.isRight(reread) ? reread.right["plugin"] : undefined
  if (JSON.stringify(after) !== JSON.stringify(kept)) {
    return Either.left("the edit did not produce the plugin list without tollgate; remove it by hand")
  }
  return Either.right({ before, after: kept, text: next })
}
