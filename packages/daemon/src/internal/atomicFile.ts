// One atomic file write for the daemon's files: a 0600 temp file created
// exclusively beside the target, then renamed over it, so a reader sees the
// old file or the new one and never a part; the temp file is removed if the
// rename fails. `durable` adds an fsync before the rename, for state that must
// survive a crash (the runtime directory's files describe one run only).
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"

export const writeAtomic = async (target: string, text: string, options: { readonly durable: boolean }): Promise<void> => {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString("hex")}.tmp`)
  const handle = await fs.open(temp, "wx", 0o600)
  try {
    await handle.writeFile(text, "utf8")
    if (options.durable) await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(temp, target).catch(async (error: unknown) => {
    await fs.rm(temp, { force: true })
    throw error
  })
}
