// Installers write the fast, stable command: this node and the built dispatcher (dist/tollgate.js), by absolute
// real paths, never TypeScript sources or tsx loader flags (issue 15). `SelfCommand.locate` over made-up
// checkout and install layouts, then `daemon install` run from the built CLI and from the sources.
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Either from "effect/Either"
import { afterAll, beforeAll, describe, expect } from "vitest"
import * as SelfCommand from "../src/SelfCommand.js"
import { builtDispatcher, expectFastCommand, test as it, tollgate, tollgateBuilt } from "./tollgate.js"

let root = ""
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tollgate-cli-self-"))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const file = async (path: string, at: number) => {
  await mkdir(join(path, ".."), { recursive: true })
  await writeFile(path, "//\n")
  await utimes(path, at / 1000, at / 1000)
  return path
}
const NODE = "/opt/node/bin/node"
const T0 = Date.UTC(2026, 0, 1)
const locate = (entry: string) => SelfCommand.locate({ execPath: NODE, argv: [NODE, entry] })

describe("SelfCommand.locate", () => {
  it("the built dispatcher, reached through npm's bin symlink, is itself by its real path", async () => {
    const dispatcher = await file(join(root, "lib/node_modules/@tollgate/cli/dist/tollgate.js"), T0)
    await file(join(root, "lib/node_modules/@tollgate/cli/dist/cli/doctor.cjs"), T0)
    await mkdir(join(root, "bin"))
    await symlink(dispatcher, join(root, "bin/tollgate"))
    expect(locate(join(root, "bin/tollgate"))).toEqual(
      Either.right({ node: NODE, dispatcher, argv: [NODE, dispatcher] })
    )
    // A command's bundle run directly points at the dispatcher above it.
    expect(
      Either.map(locate(join(root, "lib/node_modules/@tollgate/cli/dist/cli/doctor.cjs")), (s) => s.dispatcher)
    ).toEqual(Either.right(dispatcher))
  })

  it("from the TypeScript sources: the checkout's build when it is current, else refused saying what to run", async () => {
    const checkout = join(root, "checkout")
    const entry = await file(join(checkout, "apps/cli/src/main.ts"), T0)
    const missing = locate(entry)
    expect(Either.getLeft(missing)).toEqual(
      expect.objectContaining({
        value: expect.stringMatching(/not built; .*`pnpm tollgate …`.*npm i -g @tollgate\/cli/)
      })
    )

    const dispatcher = await file(join(checkout, "apps/cli/dist/tollgate.js"), T0 + 1000)
    await file(join(checkout, "packages/core/src/Classify.ts"), T0)
    expect(locate(entry)).toEqual(Either.right({ node: NODE, dispatcher, argv: [NODE, dispatcher] }))

    // A package source edited after the build: the build is stale, so nothing is written.
    await file(join(checkout, "packages/core/src/Classify.ts"), T0 + 2000)
    expect(Either.getLeft(locate(entry))).toEqual(
      expect.objectContaining({ value: expect.stringMatching(/older than them; .*pnpm tollgate/) })
    )
    // Tests and other builds do not count.
    await file(join(checkout, "packages/core/src/Classify.ts"), T0)
    await file(join(checkout, "packages/core/test/Classify.test.ts"), T0 + 5000)
    expect(Either.isRight(locate(entry))).toBe(true)
  })

  it("no entry, or a file that is no tollgate build, is refused", async () => {
    expect(Either.isLeft(SelfCommand.locate({ execPath: NODE, argv: [NODE] }))).toBe(true)
    expect(Either.isLeft(locate(await file(join(root, "elsewhere/other.js"), T0)))).toBe(true)
  })
})

const CHECKOUT_DISPATCHER = fileURLToPath(new URL("../dist/tollgate.js", import.meta.url))

describe.concurrent("daemon install writes the built command", { timeout: 90_000 }, () => {
  it("from the built CLI: --dry-run prints, install writes, ExecStart = this node + the dispatcher", async ({
    sandbox
  }) => {
    const dispatcher = await builtDispatcher()
    const dry = await tollgateBuilt(sandbox, ["daemon", "install", "--dry-run", "--platform", "linux"])
    expect(dry.code, dry.stderr).toBe(0)
    expectFastCommand(/^ExecStart=(.*)$/m.exec(dry.stdout)?.[1] ?? "", dispatcher, ["daemon", "run"])

    const run = await tollgateBuilt(sandbox, ["daemon", "install", "--platform", "linux"])
    expect(run.code, run.stderr).toBe(0)
    const unit = await readFile(join(sandbox.home, ".config/systemd/user/tollgate-daemon.service"), "utf8")
    expectFastCommand(/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "", dispatcher, ["daemon", "run"])

    const mac = await tollgateBuilt(sandbox, ["daemon", "install", "--dry-run", "--platform", "darwin"])
    expect(mac.code, mac.stderr).toBe(0)
    const args = [...mac.stdout.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => m[1])
    expect(args.slice(args.indexOf(process.execPath), args.indexOf(process.execPath) + 4)).toEqual([
      process.execPath,
      dispatcher,
      "daemon",
      "run"
    ])
    expect(mac.stdout).not.toMatch(/tsx|\.[cm]?ts</)
  })

  it("from the sources under tsx: the checkout's current build, or refused with what to run; never a tsx command", async ({
    sandbox
  }) => {
    // Which of the two depends on whether this checkout's dist/ is current; either way no tsx command comes out.
    const expected = SelfCommand.locate({
      execPath: process.execPath,
      argv: [process.execPath, fileURLToPath(new URL("../src/main.ts", import.meta.url))]
    })
    const run = await tollgate(sandbox, ["daemon", "install", "--dry-run", "--platform", "linux"])
    expect(run.stdout).not.toMatch(/tsx|\.[cm]?ts\b/)
    if (Either.isRight(expected)) {
      expect(run.code, run.stderr).toBe(0)
      expectFastCommand(/^ExecStart=(.*)$/m.exec(run.stdout)?.[1] ?? "", CHECKOUT_DISPATCHER, ["daemon", "run"])
    } else {
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(
        /^tollgate: daemon install: running from the TypeScript sources and .*dist\/tollgate\.js is (not built|older than them); run it as `pnpm tollgate …`/
      )
      expect(run.stdout).toBe("")
    }
  })
})
