/**
 * Anthropic reports some failures (rate limits, overload) inside a 200
 * `text/event-stream` as an `event: error` block; passed on untouched, the
 * AI SDK shows an empty or truncated answer instead of the reason.
 */

const BLOCK_END = /\r?\n\r?\n/
const ERROR_EVENT = /^event:\s*error\s*$/m
// Cheap pre-checks for the fast path of rewriteErrors: any mention of an error event, a text ending on a block end.
const ERROR_WORD = /event:\s*error/
const BLOCK_TAIL = /\r?\n\r?\n$/

/**
 * Passes `body` through unchanged until an `event: error` block arrives, then
 * errors the stream with what `explain` makes of that block (or passes it on
 * when `explain` returns `null`).
 */
export const watchErrors = (
  body: ReadableStream<Uint8Array>,
  explain: (block: string) => Error | null
): ReadableStream<Uint8Array> => {
  const decoder = new TextDecoder()
  let pending = ""
  const check = (text: string): Error | null => {
    for (const block of text.split(BLOCK_END)) {
      if (ERROR_EVENT.test(block)) {
        const error = explain(block)
        if (error) return error
      }
    }
    return null
  }
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true })
        const blocks = pending.split(BLOCK_END)
        // The last piece may be an incomplete block: keep it for the next chunk.
        pending = blocks.pop() ?? ""
        const error = check(blocks.join("\n\n"))
        if (error) return controller.error(error)
        controller.enqueue(chunk)
      },
      flush(controller) {
        const error = check(pending + decoder.decode())
        if (error) controller.error(error)
      }
    })
  )
}

/**
 * The stream's first event block (read as far as it takes, at most
 * `maxBytes`), and the whole stream again, those bytes first. `first` is
 * `null` when the stream ended or passed `maxBytes` without completing one.
 */
export const peekFirstBlock = async (
  body: ReadableStream<Uint8Array>,
  maxBytes = 64 * 1024
): Promise<{ readonly first: string | null; readonly stream: ReadableStream<Uint8Array> }> => {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const seen: Array<Uint8Array> = []
  let text = ""
  let size = 0
  let done = false
  let first: string | null = null
  while (first === null && size <= maxBytes) {
    const next = await reader.read()
    if (next.done) {
      done = true
      break
    }
    seen.push(next.value)
    size += next.value.length
    text += decoder.decode(next.value, { stream: true })
    const end = BLOCK_END.exec(text)
    if (end) first = text.slice(0, end.index)
  }
  if (done && first === null && text.trim() !== "") first = text
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of seen) controller.enqueue(chunk)
      if (done) controller.close()
    },
    async pull(controller) {
      if (done) return
      const next = await reader.read()
      if (next.done) {
        done = true
        controller.close()
      } else controller.enqueue(next.value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    }
  })
  return { first, stream }
}

/** Whether an event block is an `event: error`. */
export const isErrorBlock = (block: string): boolean => ERROR_EVENT.test(block)

/**
 * Passes `body` on block by block, each `event: error` block replaced by
 * what `rewrite` makes of it (`null`: kept as it came). A block goes out
 * once it is complete (Anthropic sends whole events, so this adds no wait);
 * separators are kept byte for byte.
 */
export const rewriteErrors = (
  body: ReadableStream<Uint8Array>,
  rewrite: (block: string) => string | null
): ReadableStream<Uint8Array> => {
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  const reader = body.getReader()
  let pending = ""
  // Whether the decoder holds no bytes of a character cut in two (the last chunk ended with a newline).
  let clean = true
  const render = (block: string): string => (ERROR_EVENT.test(block) ? (rewrite(block) ?? block) : block)
  // Pulled straight from the source, one chunk per pull: no pipe between two streams on every event.
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const next = await reader.read()
        if (next.done) {
          const rest = pending + decoder.decode()
          if (rest !== "") controller.enqueue(encoder.encode(render(rest)))
          controller.close()
          return
        }
        const text = decoder.decode(next.value, { stream: true })
        const wasClean = clean
        clean = next.value.length === 0 ? clean : next.value[next.value.length - 1] === 0x0a
        // Whole events with no error among them (what Anthropic sends), no character cut at either end: the chunk
        // goes on as it came.
        if (wasClean && clean && pending === "" && !ERROR_WORD.test(text) && BLOCK_TAIL.test(text)) {
          controller.enqueue(next.value)
          return
        }
        pending += text
        // [block, separator, block, separator, …, rest]
        const parts = pending.split(/(\r?\n\r?\n)/)
        pending = parts.pop() ?? ""
        if (parts.length === 0) continue
        let out = ""
        for (let i = 0; i < parts.length; i += 2) out += render(parts[i]!) + (parts[i + 1] ?? "")
        controller.enqueue(encoder.encode(out))
        return
      }
    },
    cancel(reason) {
      return reader.cancel(reason)
    }
  })
}
