/**
 * The per-user gateway key: what a client sends (`x-api-key` or
 * `Authorization: Bearer`) instead of a real credential. It is created once,
 * 0600 in a 0700 directory of ours, and only ever compared in constant time;
 * it opens the gateway, never Anthropic.
 *
 * @since 0.1.0
 */
import { AtomicFile, PrivateDirectory, SafeRead } from "@tollgate/files"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { dirname } from "node:path"

/**
 * Every key starts with this, so a leaked one is recognisable (and never
 * mistaken for an Anthropic key).
 *
 * @since 0.1.0
 */
export const PREFIX = "tollgate-gw-"

const SHAPE = /^tollgate-gw-[A-Za-z0-9_-]{43}$/

/** The key file exists but does not hold a key; says which file, never its content. @since 0.1.0 */
export class BadKeyFile extends Error {
  readonly _tag = "BadKeyFile"
  constructor(readonly path: string) {
    super(`${path} does not hold a tollgate gateway key; remove it and run \`tollgate gateway key\` to make a new one`)
  }
}

/** A fresh key. @since 0.1.0 */
export const generate = (): string => PREFIX + randomBytes(32).toString("base64url")

/** Whether `value` has the shape of a gateway key. @since 0.1.0 */
export const isKey = (value: string): boolean => SHAPE.test(value)

/** The key in `file`, `null` when there is none; throws {@link BadKeyFile} or `UnsafePath`. @since 0.1.0 */
export const read = async (file: string): Promise<string | null> => {
  const text = await SafeRead.readText(file, { maxBytes: 256, mustBeOurs: true })
  if (text === null) return null
  const key = text.trim()
  if (!isKey(key)) throw new BadKeyFile(file)
  return key
}

/**
 * The key in `file`, created (0600, in a 0700 directory) when there is none.
 * Two processes creating it at once agree on one key.
 *
 * @since 0.1.0
 */
export const ensure = async (file: string): Promise<string> => {
  const existing = await read(file)
  if (existing !== null) return existing
  await PrivateDirectory.ensure(dirname(file))
  try {
    await AtomicFile.create(file, `${generate()}\n`, { mode: 0o600 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  const key = await read(file)
  if (key === null) throw new BadKeyFile(file)
  return key
}

const digest = (value: string): Buffer => createHash("sha256").update(value).digest()

/**
 * A check of presented credentials against `key` in constant time (over
 * digests, so the length leaks nothing either).
 *
 * @since 0.1.0
 */
export const matcher = (key: string): ((presented: string | null) => boolean) => {
  const expected = digest(key)
  return (presented) => presented !== null && timingSafeEqual(digest(presented), expected)
}
