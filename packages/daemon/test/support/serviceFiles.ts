/**
 * The service files as a service manager would read them: an INI reader with
 * systemd's command-line unquoting, and a small XML reader for the plist.
 */
// ── a systemd unit, read back ────────────────────────────────────────────────

export const parseIni = (text: string): Map<string, Array<[string, string]>> => {
  const sections = new Map<string, Array<[string, string]>>()
  let current: Array<[string, string]> | undefined
  for (const line of text.split("\n")) {
    if (line.trim() === "" || /^[#;]/.test(line)) continue
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) {
      current = []
      sections.set(header[1]!, current)
      continue
    }
    const eq = line.indexOf("=")
    if (current === undefined || eq <= 0) throw new Error(`not an INI line: ${line}`)
    current.push([line.slice(0, eq), line.slice(eq + 1)])
  }
  return sections
}

export const value = (section: Array<[string, string]> | undefined, key: string): Array<string> =>
  (section ?? []).filter(([k]) => k === key).map(([, v]) => v)

const C_ESCAPES: Record<string, string> = { n: "\n", t: "\t", "\\": "\\", '"': '"', "'": "'", " ": " " }

/** systemd's reading of a command line: `%%` specifiers, then quoted words with C escapes, then `$$`. */
export const splitExec = (line: string): Array<string> => {
  if (line.replace(/%%/g, "").includes("%")) throw new Error(`unescaped specifier in ${line}`)
  const text = line.replace(/%%/g, "%")
  const words: Array<string> = []
  let i = 0
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (i >= text.length) break
    let word = ""
    let quote: string | null = null
    for (; i < text.length; i++) {
      const c = text[i]!
      if (c === "\\") {
        const escaped = C_ESCAPES[text[i + 1] ?? ""]
        if (escaped === undefined) throw new Error(`bad escape in ${line}`)
        word += escaped
        i++
      } else if (quote !== null) {
        if (c === quote) quote = null
        else word += c
      } else if (/\s/.test(c)) break
      else if (c === '"' || c === "'") quote = c
      else word += c
    }
    if (quote !== null) throw new Error(`unterminated quote in ${line}`)
    if (/\$(?!\$)[{A-Za-z_]/.test(word.replace(/\$\$/g, ""))) throw new Error(`would expand a variable: ${word}`)
    words.push(word.replace(/\$\$/g, "$"))
  }
  return words
}

// ── a plist, read back ──────────────────────────────────────────────────────

interface Element {
  readonly name: string
  readonly children: Array<Element | string>
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

const decode = (text: string): string =>
  text.replace(/&([a-z]+);|&/g, (_, name: string | undefined) => {
    const decoded = name === undefined ? undefined : ENTITIES[name]
    if (decoded === undefined) throw new Error(`stray & in ${text}`)
    return decoded
  })

/** A tag-balancing XML reader: enough for a plist, and strict about `<`, `&` and nesting. */
const parseXml = (xml: string): Element => {
  const root: Element = { name: "#document", children: [] }
  const stack: Array<Element> = [root]
  let i = 0
  while (i < xml.length) {
    const lt = xml.indexOf("<", i)
    const text = xml.slice(i, lt === -1 ? xml.length : lt)
    if (text.includes(">")) throw new Error(`stray > in ${text}`)
    if (text.trim() !== "") stack.at(-1)!.children.push(decode(text))
    if (lt === -1) break
    const gt = xml.indexOf(">", lt)
    if (gt === -1) throw new Error("unterminated tag")
    const tag = xml.slice(lt + 1, gt)
    i = gt + 1
    if (tag.startsWith("?") || tag.startsWith("!")) continue
    if (tag.includes("<")) throw new Error(`< inside a tag: ${tag}`)
    if (tag.startsWith("/")) {
      const open = stack.pop()
      if (open?.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open?.name}>`)
      continue
    }
    const element: Element = { name: tag.replace(/\/$/, "").split(/\s/)[0]!, children: [] }
    stack.at(-1)!.children.push(element)
    if (!tag.endsWith("/")) stack.push(element)
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)!.name}>`)
  return root
}

export type PlistValue = string | number | boolean | Array<PlistValue> | { [key: string]: PlistValue }

const elements = (e: Element): Array<Element> => e.children.filter((c): c is Element => typeof c !== "string")
const textOf = (e: Element): string => e.children.filter((c): c is string => typeof c === "string").join("")

const toValue = (e: Element): PlistValue => {
  switch (e.name) {
    case "string":
      return textOf(e)
    case "integer":
      return Number(textOf(e))
    case "true":
      return true
    case "false":
      return false
    case "array":
      return elements(e).map(toValue)
    case "dict": {
      const out: { [key: string]: PlistValue } = {}
      const items = elements(e)
      for (let i = 0; i < items.length; i += 2) {
        if (items[i]!.name !== "key") throw new Error("a dict alternates key and value")
        out[textOf(items[i]!)] = toValue(items[i + 1]!)
      }
      return out
    }
    default:
      throw new Error(`unexpected <${e.name}>`)
  }
}

export const readPlist = (xml: string): PlistValue => {
  const plist = elements(parseXml(xml))
  if (plist.length !== 1 || plist[0]!.name !== "plist") throw new Error("one <plist> root")
  return toValue(elements(plist[0]!)[0]!)
}
