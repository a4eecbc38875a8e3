/**
 * A V8 code cache for the CLI's bundles on Node 20, which has no
 * `module.enableCompileCache`. Compiling a bundle of ~1.5 MB from source on
 * every start costs tens of milliseconds; with the bytecode V8 produced for
 * the same bundle on an earlier run (`script.createCachedData()` taken at
 * exit, so it holds the functions the command actually ran) most of that goes:
 * measured ~70 ms of a ~240 ms start (`cd apps/cli && pnpm bench`).
 *
 * One cache file per bundle path *and command* (`variant`): each command
 * compiles different parts of a bundle. A cache is bytecode that will run, so:
 * - its directory is created 0700 and used only when it is a real directory
 *   (not a link), ours, and writable by nobody else; the file is opened
 *   without following links, must be a regular file of ours and is capped;
 * - its name carries the bundle's identity (path, size, mtime, inode, taken
 *   from the same open file the source is read from) and the Node version and
 *   architecture: V8 itself checks only the source's length, and a rebuilt
 *   bundle of the same length must never get the old bytecode;
 * - it is written to a fresh private temp file and renamed into place, so a
 *   reader never sees half of one, whatever kill or full disk interrupts it;
 * - it carries its own length and CRC-32, checked before V8 sees it: Node
 *   20's V8 does not checksum code caches, and a damaged one crashes the
 *   process instead of being rejected.
 * Nothing about the cache can fail a command: any problem means compiling
 * from source, silently. Errors thrown by the bundle itself propagate.
 *
 * No `importModuleDynamically`: on Node 20 `USE_MAIN_CONTEXT_DEFAULT_LOADER`
 * prints an ExperimentalWarning on every run and is lost for a script compiled
 * from cached data (`import()` then throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING
 * on every hit), so build.mjs keeps import() out of the bundles instead.
 *
 * `node:` imports and `@tollgate/files`' AtomicFile only (no Effect): it is
 * inlined into the dispatcher, which loads no package at run time.
 */
import * as AtomicFile from "@tollgate/files/AtomicFile"
import { createHash } from "node:crypto"
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync
} from "node:fs"
import { Module } from "node:module"
import { basename, dirname, join } from "node:path"
import * as vm from "node:vm"
import { crc32 } from "node:zlib"

/** What the cache did for one load: served it, stored a fresh one, refused a stale or foreign file, or was off. */
export type Outcome = "hit" | "miss" | "rejected" | "off"

/** Larger than any cache of ours by far; a bigger file is not read. */
const MAX_BYTES = 64 * 1024 * 1024
/** A temp file older than this was left by a process killed mid-write. */
const STALE_TEMP_MS = 60 * 60 * 1000
const VARIANT = /^[a-z][a-z0-9-]{0,40}$/
/** File header: magic, CRC-32 of the data, the data's length. */
const MAGIC = 0x31434754 // "TGC1"
const HEADER = 12

const frame = (data: Buffer): Buffer => {
  const header = Buffer.alloc(HEADER)
  header.writeUInt32LE(MAGIC, 0)
  header.writeUInt32LE(crc32(data), 4)
  header.writeUInt32LE(data.length, 8)
  return Buffer.concat([header, data])
}

const unframe = (file: Buffer): Buffer | undefined => {
  if (file.length < HEADER || file.readUInt32LE(0) !== MAGIC || file.readUInt32LE(8) !== file.length - HEADER)
    return undefined
  const data = file.subarray(HEADER)
  return crc32(data) === file.readUInt32LE(4) ? data : undefined
}

/** Where the cache lives for this user, or undefined when turned off or there is no home. No file system access. */
export const directory = (
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  home: string | undefined
): string | undefined => {
  const off = env["TOLLGATE_COMPILE_CACHE"]?.trim().toLowerCase()
  if (off === "0" || off === "off" || off === "false") return undefined
  const xdg = env["XDG_CACHE_HOME"]
  if (xdg?.startsWith("/")) return join(xdg, "tollgate", "compile")
  if (home === undefined || !home.startsWith("/")) return undefined
  return platform === "darwin"
    ? join(home, "Library", "Caches", "tollgate", "compile")
    : join(home, ".cache", "tollgate", "compile")
}

const uid = (): number | undefined => process.getuid?.()

/** `dir`, created 0700 if missing, when it is safe to keep bytecode in; else undefined. */
const safeDirectory = (dir: string): string | undefined => {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const info = lstatSync(dir)
    if (!info.isDirectory()) return undefined
    if (uid() !== undefined && info.uid !== uid()) return undefined
    if ((info.mode & 0o022) !== 0) return undefined
    return dir
  } catch {
    return undefined
  }
}

/** All of the open file `fd`, `size` bytes long, or undefined when it turns out shorter. */
const readAll = (fd: number, size: number): Buffer | undefined => {
  const data = Buffer.allocUnsafe(size)
  let read = 0
  while (read < size) {
    const n = readSync(fd, data, read, size - read, read)
    if (n === 0) return undefined
    read += n
  }
  return data
}

/** The cached data, `"damaged"` for a file of ours that fails its check, or undefined when there is none to use. */
const readCache = (file: string): Buffer | "damaged" | undefined => {
  let fd: number | undefined
  try {
    // O_NONBLOCK: a FIFO planted under the cache's name must not hang the start; fstat then turns it away.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    const info = fstatSync(fd)
    if (!info.isFile() || info.size > MAX_BYTES) return undefined
    if (uid() !== undefined && info.uid !== uid()) return undefined
    const data = readAll(fd, info.size)
    return data === undefined ? undefined : (unframe(data) ?? "damaged")
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The bundle's source and the identity of the very file it was read from (one open, so a rebuild can't slip in
 * between); no identity when the file changed size while we read it, so that run gets no cache.
 */
const readBundle = (file: string): { readonly source: string; readonly identity: string | undefined } => {
  const fd = openSync(file, "r")
  try {
    const info = fstatSync(fd)
    const data = readAll(fd, info.size)
    if (data === undefined) return { source: readFileSync(fd, "utf8"), identity: undefined }
    const identity = [info.size, info.mtimeMs, info.ino, process.version, process.arch].join("\0")
    return { source: data.toString("utf8"), identity }
  } finally {
    closeSync(fd)
  }
}

const writeCache = (dir: string, name: string, prefix: string, data: Buffer): void => {
  try {
    // A cache is rebuilt from source when lost: no fsync.
    AtomicFile.writeSync(join(dir, name), data, { durable: false })
  } catch {
    return
  }
  // Older builds' caches for this bundle and command, and temp files of processes killed mid-write.
  let entries: Array<string>
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  const now = Date.now()
  for (const entry of entries) {
    const path = join(dir, entry)
    try {
      if (entry.startsWith(prefix) && entry !== name) unlinkSync(path)
      else if (AtomicFile.isTempName(entry) && now - lstatSync(path).mtimeMs > STALE_TEMP_MS) unlinkSync(path)
    } catch {
      // Tidying is best effort: another process may have removed it first.
    }
  }
}

/**
 * Runs the CommonJS file `file` the way require() would (a fresh module whose
 * require resolves beside it), with a V8 code cache in `directory` kept for
 * `variant` (the command being run, when a bundle serves several); returns
 * the module's exports and what the cache did.
 */
export const load = (
  file: string,
  directory: string | undefined,
  variant?: string
): { readonly exports: unknown; readonly outcome: Outcome } => {
  const { identity, source } = readBundle(file)
  const usable = directory !== undefined && identity !== undefined && (variant === undefined || VARIANT.test(variant))
  const dir = usable ? safeDirectory(directory) : undefined
  let name: string | undefined
  let prefix = ""
  let cached: Buffer | "damaged" | undefined
  if (dir !== undefined) {
    try {
      const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16)
      // Per bundle path and command; a new build of the same path replaces the old one's file (see writeCache),
      // two installs (a global one and a checkout) keep one each.
      prefix = `${basename(file)}.${variant === undefined ? "" : `${variant}.`}${hash(file)}.`
      name = `${prefix}${hash(identity!)}.v8`
      cached = readCache(join(dir, name))
    } catch {
      name = undefined
    }
  }
  // No importModuleDynamically: on Node 20 it warns on every run and is lost for a script compiled from cached
  // data; build.mjs makes sure no bundle calls import().
  const cachedData = cached instanceof Buffer ? cached : undefined
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData !== undefined ? { cachedData } : {})
  })
  const outcome: Outcome =
    dir === undefined || name === undefined
      ? "off"
      : cached === undefined
        ? "miss"
        : cached === "damaged" || script.cachedDataRejected === true
          ? "rejected"
          : "hit"
  if (dir !== undefined && name !== undefined && outcome !== "hit") {
    const cacheName = name
    // At exit, so the data holds the functions this command compiled while it ran.
    process.once("exit", () => {
      try {
        writeCache(dir, cacheName, prefix, frame(script.createCachedData()))
      } catch {
        // No cache this time.
      }
    })
  }
  const module = new Module(file)
  module.filename = file
  module.paths = (Module as unknown as { _nodeModulePaths: (from: string) => Array<string> })._nodeModulePaths(
    dirname(file)
  )
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string
  ) => void
  wrapper.call(module.exports, module.exports, Module.createRequire(file), module, file, dirname(file))
  module.loaded = true
  return { exports: module.exports, outcome }
}
