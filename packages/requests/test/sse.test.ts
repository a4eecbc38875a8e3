// The event-stream rewriter the gateway's streams go through: every byte of
// a healthy stream passes unchanged however the chunks are cut (mid-event,
// mid-separator, mid-character), and only `event: error` blocks are
// replaced.
import { describe, expect, it } from "vitest"
import { rewriteErrors } from "../src/internal/sse.js"

const EVENTS = [
  'event: message_start\ndata: {"type":"message_start","message":{"content":"héllo €"}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"ü ✓ 🙂"}}\n\n',
  "event: ping\r\ndata: {}\r\n\r\n",
  'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n'
]

const streamOf = (chunks: ReadonlyArray<Uint8Array>) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    }
  })

const readAll = async (stream: ReadableStream<Uint8Array>) => {
  const parts: Array<Uint8Array> = []
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    parts.push(value)
  }
  return Buffer.concat(parts)
}

/** The bytes cut every `size` bytes (so characters and separators are split too). */
const cut = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size))
  return out
}

describe("rewriteErrors", () => {
  const bytes = new TextEncoder().encode(EVENTS.join(""))
  const expected = EVENTS.map((e) =>
    e.startsWith("event: error") ? "event: error\ndata: REPLACED" : e.slice(0, e.search(/\r?\n\r?\n$/))
  ).join("")

  for (const size of [1, 2, 3, 7, 64, bytes.length]) {
    it(`chunks of ${size} byte(s): healthy events byte for byte, the error block replaced`, async () => {
      const out = await readAll(rewriteErrors(streamOf(cut(bytes, size)), () => "event: error\ndata: REPLACED"))
      const text = new TextDecoder("utf-8", { fatal: true }).decode(out)
      // Separators kept as they came; compare without them, then check them apart.
      expect(text.replace(/\r?\n\r?\n/g, "")).toBe(expected.replace(/\r?\n\r?\n/g, ""))
      expect(text.match(/\r?\n\r?\n/g)).toEqual(EVENTS.join("").match(/\r?\n\r?\n/g))
      expect(text).toContain("héllo €")
      expect(text).toContain("ü ✓ 🙂")
      expect(text).not.toContain("Overloaded")
    })
  }

  it("whole healthy events pass as the same bytes, unchanged", async () => {
    const healthy = EVENTS.filter((e) => !e.startsWith("event: error")).map((e) => new TextEncoder().encode(e))
    const out = await readAll(rewriteErrors(streamOf(healthy), () => "never"))
    expect(Buffer.compare(out, Buffer.concat(healthy))).toBe(0)
  })

  it("a character cut at a chunk end that is also a block end is not lost", async () => {
    const euro = new TextEncoder().encode("€")
    const first = new Uint8Array([...new TextEncoder().encode("event: a\ndata: x\n\n"), euro[0]!])
    const second = new Uint8Array([...euro.slice(1), ...new TextEncoder().encode("\n\n")])
    const out = await readAll(rewriteErrors(streamOf([first, second]), () => null))
    expect(new TextDecoder().decode(out)).toBe("event: a\ndata: x\n\n€\n\n")
  })

  it("a rewrite that answers null keeps the block as it came", async () => {
    const out = await readAll(rewriteErrors(streamOf([bytes]), () => null))
    expect(new TextDecoder().decode(out)).toBe(EVENTS.join(""))
  })
})
