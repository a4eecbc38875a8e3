// FNV-1a, 64 bit, over UTF-16 code units. Not a cryptographic hash: tokens carry
// far more entropy than 64 bits, so a fingerprint names a token without
// revealing it, and core stays free of Node's crypto module.
const OFFSET = 0xcbf29ce484222325n
const PRIME = 0x100000001b3n
const MASK = 0xffffffffffffffffn

export const fingerprint = (value: string): string => {
  let hash = OFFSET
  for (let i = 0; i < value.length; i++) {
    hash ^= BigInt(value.charCodeAt(i))
    hash = (hash * PRIME) & MASK
  }
  return `fp_${hash.toString(16).padStart(16, "0")}`
}
