/**
 * The temp files `AtomicFile` writes beside a target: their names (hidden,
 * random, `.tmp`), how they are created (`O_EXCL|O_NOFOLLOW`, a few tries)
 * and how a lock holder sweeps what killed writers left.
 */
import { randomBytes } from "node:crypto"
import { constants, lstatSync, readdirSync, unlinkSync } from "node:fs"
import { lstat, readdir, rm } from "node:fs/promises"
import { basename, dirname, join } from "node:path"

export const CREATE_FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW

// Collisions of 64 random bits only happen when someone planted the name; a few tries are plenty.
export const CREATE_ATTEMPTS = 5

export const tempPrefix = (target: string): string => {
  const name = basename(target)
  return `${name.startsWith(".") ? "" : "."}${name}.`
}

export const tempPathFor = (target: string): string =>
  join(dirname(target), `${tempPrefix(target)}${randomBytes(8).toString("hex")}.tmp`)

const TEMP_SUFFIX = /^[0-9a-f]{16}\.tmp$/

const TEMP_ANY = /\.[0-9a-f]{16}\.tmp$/

export const sweepTemps = async (target: string): Promise<number> => {
  const dir = dirname(target)
  const prefix = tempPrefix(target)
  const names = await readdir(dir).catch(() => [] as Array<string>)
  let removed = 0
  for (const name of names) {
    if (!isTempName(name, prefix)) continue
    const path = join(dir, name)
    const st = await lstat(path).catch(() => null)
    if (st?.isFile() !== true) continue
    await rm(path, { force: true }).then(
      () => removed++,
      () => {}
    )
  }
  return removed
}

export const sweepTempsSync = (target: string): number => {
  const dir = dirname(target)
  const prefix = tempPrefix(target)
  let names: Array<string>
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (!isTempName(name, prefix)) continue
    try {
      const path = join(dir, name)
      if (!lstatSync(path).isFile()) continue
      unlinkSync(path)
      removed++
    } catch {
      // Gone already, or not ours to remove: either way nothing to do.
    }
  }
  return removed
}

export const isTempName = (name: string, prefixOrTarget?: string): boolean => {
  if (prefixOrTarget === undefined) return name.startsWith(".") && TEMP_ANY.test(name)
  const prefix = prefixOrTarget.endsWith(".") ? prefixOrTarget : tempPrefix(prefixOrTarget)
  return name.startsWith(prefix) && TEMP_SUFFIX.test(name.slice(prefix.length))
}
