/**
 * Checks on JSON text made before it is parsed. Parsing a deeply nested
 * document is cheap, but almost everything done with the value afterwards
 * recurses — `JSON.stringify`, Schema's issue formatting, `util.inspect` —
 * and overflows the stack somewhere between a few thousand and a hundred
 * thousand levels. Refusing such text up front, with a scan that keeps no
 * stack of its own, is the one place that can be done safely.
 *
 * @since 0.1.0
 */

/**
 * Levels of nesting no document tollgate reads has a reason to exceed
 * (Claude Code's credentials are 4 deep; a `classify` input 3).
 *
 * @since 0.1.0
 */
export const MAX_DEPTH = 64

/** U+FEFF, the byte order mark some editors put at the start of a UTF-8 file. */
const BOM = 0xfeff

/**
 * The text without a leading byte order mark. `JSON.parse` rejects one, and
 * Windows editors (Notepad, PowerShell's `Out-File`) write one.
 *
 * @since 0.1.0
 */
export const stripBom = (text: string): string => (text.charCodeAt(0) === BOM ? text.slice(1) : text)

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/**
 * The index of the first `[` or `{` that opens a level deeper than
 * `maxDepth`, or `-1` when the text never nests that deep. One pass over the
 * characters with a counter, so any depth is safe to check; brackets inside
 * strings do not count. On text that is not JSON the answer is only a
 * guess, which is enough: such text fails to parse anyway.
 *
 * @since 0.1.0
 */
export const depthExceededAt = (text: string, maxDepth: number = MAX_DEPTH): number => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return i
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    }
  }
  return -1
}

/**
 * The length of the text in UTF-8 bytes, counted without encoding it and
 * without counting past `limit + 1` (enough to tell "over the limit").
 *
 * @since 0.1.0
 */
export const utf8Length = (text: string, limit: number = Number.POSITIVE_INFINITY): number => {
  // Every UTF-16 unit is at least one byte.
  if (text.length > limit) return text.length
  let bytes = 0
  for (let i = 0; i < text.length && bytes <= limit; i++) bytes += unitBytes(text, i)
  return bytes
}

// A surrogate pair is four bytes, two per unit; a lone surrogate becomes U+FFFD (three).
const unitBytes = (text: string, i: number): number => {
  const c = text.charCodeAt(i)
  if (c < 0x80) return 1
  if (c < 0x800) return 2
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1)
    return next >= 0xdc00 && next <= 0xdfff ? 2 : 3
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const prev = text.charCodeAt(i - 1)
    return prev >= 0xd800 && prev <= 0xdbff ? 2 : 3
  }
  return 3
}
