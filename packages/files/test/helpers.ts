import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach } from "vitest"

/** A fresh directory under the OS temp dir, removed after the test. */
export const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-files-"))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Runs `f` under `mask`, restoring the previous umask after. */
export const withUmask = async <A>(mask: number, f: () => Promise<A>): Promise<A> => {
  const previous = process.umask(mask)
  try {
    return await f()
  } finally {
    process.umask(previous)
  }
}

/** Another user's uid for files the tests chown away (they run as root). */
export const OTHER_UID = 12345

export const isRoot = process.geteuid?.() === 0
