// The daemon's RSS floor (issue 15, item 5): a bare Node Unix-socket server that
// makes one built-in `fetch` per ask — what any daemon of ours costs at least.
// Usage: node floor.mjs <socket path> <url to fetch>
import { createServer } from "node:net"
const [socketPath, url] = process.argv.slice(2)
createServer((conn) => {
  conn.once("data", async () => {
    try {
      const res = await fetch(url)
      conn.end(`${res.status}\n`)
    } catch (e) {
      conn.end(`error ${e?.cause?.code ?? "unknown"}\n`)
    }
  })
}).listen(socketPath, () => process.stdout.write("ready\n"))
