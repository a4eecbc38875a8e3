/**
 * Anthropic reports some failures (rate limits, overload) inside a 200
 * `text/event-stream` as an `event: error` block; passed on untouched, the
 * AI SDK shows an empty or truncated answer instead of the reason.
 */

const BLOCK_END = /\r?\n\r?\n/
const ERROR_EVENT = /^event:\s*error\s*$/m

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
