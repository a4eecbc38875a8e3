// `pnpm test:release`: a real release, end to end, on loopback (issue 15, item 4).
//
// A temp clone of HEAD is installed, versioned (`changeset version`) and built; every public package is
// published to a Verdaccio on 127.0.0.1; then, as a user would: `npm i -g @tollgate/cli` into a clean
// prefix and the installed `tollgate` run (help, doctor, statusline install + the written command's
// start-up against `node -e 0`, daemon install --dry-run); every package imported where only it and its
// declared dependencies are installed; and the real opencode loading `@tollgate/opencode@<version>` by
// name from that registry and answering from the loopback simulator.
//
// The copy is of HEAD (what CI tests); RELEASE_TEST_SOURCE=worktree copies this checkout's working tree,
// uncommitted changes included, and RELEASE_TEST_SOURCE=/abs/path another checkout's.
//
// Bounded by RELEASE_TEST_TIMEOUT_MS (default 10 min); exits 1 on any failed or skipped step; prints a
// step-by-step summary; removes its temp root. Every child runs with HOME, XDG_*, TMPDIR and npm's cache,
// userconfig and prefix inside that root (scripts/release/proc.mjs). The one thing shared with the
// machine is pnpm's content-addressed store, read (hard-linked from) by the offline install.
import { execFileSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { diskUsage, interleavedStartup, mb } from "./release/measure.mjs"
import { opencodeLoadsPublishedPlugin } from "./release/opencode.mjs"
import { killAll, redact, run, runOk, sandboxDirs, sandboxEnv, StepError, tail } from "./release/proc.mjs"
import { createUser, packument, startRegistry } from "./release/registry.mjs"

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "..")
const TOTAL_MS = Number(process.env.RELEASE_TEST_TIMEOUT_MS ?? 600_000)
const STATUSLINE_MAX_RATIO = Number(process.env.RELEASE_TEST_STATUSLINE_MAX_RATIO ?? 1.3)
const CLI_MAX_BYTES = 5e6
const RESULTS_FILE = ".release-test-results.json"
// HEAD by default (what CI tests). `worktree` copies this checkout as it is on disk, uncommitted changes
// included; an absolute path copies that checkout's working tree instead.
const SOURCE_MODE = process.env.RELEASE_TEST_SOURCE ?? "head"
const FROM_WORKTREE = SOURCE_MODE !== "head"
const WORKTREE = SOURCE_MODE.startsWith("/") ? SOURCE_MODE : SOURCE
const started = performance.now()
const secrets = []
const say = (line) =>
  process.stdout.write(`[release-test +${((performance.now() - started) / 1000).toFixed(0)}s] ${line}\n`)

// Read before anything is redirected: where this machine's npm and pnpm get packages from.
const hostConfig = (command, args) => {
  try {
    return execFileSync(command, args, { cwd: SOURCE, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return ""
  }
}
const root = await mkdtemp(join(tmpdir(), "tollgate-release-"))
const dirs = sandboxDirs(root)
await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true, mode: 0o700 })))
// npm would write this query's debug log into the real ~/.npm/_logs.
const UPSTREAM =
  process.env.RELEASE_TEST_UPSTREAM ||
  hostConfig("npm", ["config", "get", "registry", `--logs-dir=${join(root, "host-npm-logs")}`]) ||
  "https://registry.npmjs.org/"
const STORE = process.env.RELEASE_TEST_STORE_DIR || hostConfig("pnpm", ["store", "path"])
// Whatever this process creates with mkdtemp (the opencode home, probe projects) lands in the root too.
process.env.TMPDIR = dirs.TMPDIR
const env = sandboxEnv(root)
const repo = join(root, "repo")
const prefix = env.npm_config_prefix

/** Shared between steps. */
const ctx = { registry: undefined, packages: [], versions: new Map(), tollgate: join(prefix, "bin", "tollgate") }

const steps = [
  {
    id: "copy",
    title: FROM_WORKTREE ? "temp copy of the working tree" : "temp clone of HEAD",
    timeoutMs: 60_000,
    run: async () => {
      const head = hostConfig("git", ["rev-parse", "--short", "HEAD"])
      if (FROM_WORKTREE) {
        // Tracked and untracked-but-not-ignored files as they are on disk: uncommitted work, before committing it.
        const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
          cwd: WORKTREE
        })
        const files = listed
          .toString("utf8")
          .split("\0")
          .filter((f) => f !== "" && existsSync(join(WORKTREE, f)))
        for (const file of files)
          await cp(join(WORKTREE, file), join(repo, file), { recursive: true, verbatimSymlinks: true })
        return `${files.length} files of the working tree of ${WORKTREE === SOURCE ? "this checkout" : WORKTREE} (RELEASE_TEST_SOURCE=${SOURCE_MODE})`
      }
      await runOk("git clone", "git", ["clone", "--quiet", "--no-hardlinks", SOURCE, repo], {
        cwd: root,
        env,
        timeoutMs: 60_000
      })
      return `git clone --no-hardlinks of ${head || "HEAD"}`
    }
  },
  {
    id: "install",
    title: "pnpm install --frozen-lockfile",
    needs: ["copy"],
    timeoutMs: 240_000,
    run: async ({ timeoutMs }) => {
      const args = ["install", "--frozen-lockfile", "--config.confirmModulesPurge=false", "--reporter=append-only"]
      if (STORE) args.push("--store-dir", STORE)
      const offline = await run("pnpm", [...args, "--offline"], { cwd: repo, env, timeoutMs })
      if (offline.code === 0 && !offline.timedOut)
        return `offline from the pnpm store (${(offline.ms / 1000).toFixed(0)} s)`
      say("offline install failed; retrying online")
      const online = await runOk("pnpm install (online)", "pnpm", [...args, "--registry", UPSTREAM], {
        cwd: repo,
        env,
        timeoutMs
      })
      return `online (offline failed: ${tail(offline.stderr || offline.stdout, 1)}) (${(online.ms / 1000).toFixed(0)} s)`
    }
  },
  {
    id: "version",
    title: "pnpm changeset version",
    needs: ["install"],
    timeoutMs: 60_000,
    run: async ({ timeoutMs }) => {
      const pending = (await readdir(join(repo, ".changeset"))).filter((f) => f.endsWith(".md") && f !== "README.md")
      await runOk("changeset version", "pnpm", ["changeset", "version"], { cwd: repo, env, timeoutMs })
      ctx.packages = await publicPackages(repo)
      for (const p of ctx.packages) ctx.versions.set(p.name, p.version)
      const left = (await readdir(join(repo, ".changeset"))).filter((f) => f.endsWith(".md") && f !== "README.md")
      if (left.length > 0) throw new StepError(`changesets left unconsumed: ${left.join(", ")}`)
      const unversioned = ctx.packages.filter((p) => p.version === "0.0.0").map((p) => p.name)
      if (unversioned.length > 0) throw new StepError(`still 0.0.0 after changeset version: ${unversioned.join(", ")}`)
      return `${pending.length} changesets → ${ctx.packages.map((p) => `${p.name}@${p.version}`).join(", ")}`
    }
  },
  {
    id: "build",
    title: "pnpm -r build",
    needs: ["version"],
    timeoutMs: 240_000,
    run: async ({ timeoutMs }) => {
      const r = await runOk(
        "pnpm -r build",
        "pnpm",
        ["-r", "--workspace-concurrency=2", "--reporter=append-only", "build"],
        {
          cwd: repo,
          env,
          timeoutMs
        }
      )
      return `built in ${(r.ms / 1000).toFixed(0)} s`
    }
  },
  {
    id: "registry",
    title: "Verdaccio on 127.0.0.1",
    timeoutMs: 60_000,
    run: async ({ timeoutMs }) => {
      ctx.registry = await startRegistry({
        repoRoot: SOURCE,
        dir: join(root, "registry"),
        env,
        upstream: UPSTREAM,
        timeoutMs
      })
      const token = await createUser(ctx.registry.url, "release-test", `pw-${Math.random().toString(36).slice(2)}`)
      secrets.push(token)
      const host = ctx.registry.url.replace(/^http:/, "")
      // The temp userconfig every child reads: the loopback registry for everything, and its token.
      await writeFile(env.npm_config_userconfig, `registry=${ctx.registry.url}\n${host}:_authToken=${token}\n`, {
        mode: 0o600
      })
      return `verdaccio ${ctx.registry.version} at ${ctx.registry.url}; @tollgate/* local only, the rest proxied to ${UPSTREAM}`
    }
  },
  {
    id: "publish",
    title: "pnpm publish -r to the loopback registry",
    needs: ["build", "registry"],
    timeoutMs: 180_000,
    run: async ({ timeoutMs }) => {
      const url = ctx.registry.url
      await runOk(
        "pnpm publish -r",
        "pnpm",
        ["publish", "-r", "--no-git-checks", "--access", "public", "--registry", url],
        {
          cwd: repo,
          env,
          timeoutMs
        }
      )
      const missing = []
      for (const p of ctx.packages) {
        const doc = await packument(url, p.name)
        if (doc?.versions?.[p.version] === undefined) missing.push(`${p.name}@${p.version}`)
        else p.manifest = doc.versions[p.version]
      }
      if (missing.length > 0) throw new StepError(`not in the registry after publishing: ${missing.join(", ")}`)
      const leaked = ctx.packages
        .filter((p) => /"(workspace|catalog):/.test(JSON.stringify(p.manifest)))
        .map((p) => p.name)
      if (leaked.length > 0)
        throw new StepError(`published manifests still say workspace:/catalog:: ${leaked.join(", ")}`)
      return `${ctx.packages.length} packages published`
    }
  },
  {
    id: "cli-install",
    title: "npm i -g @tollgate/cli (clean prefix)",
    needs: ["publish"],
    timeoutMs: 180_000,
    run: async ({ timeoutMs }) => {
      const r = await runOk(
        "npm i -g @tollgate/cli",
        "npm",
        ["i", "-g", "@tollgate/cli", "--registry", ctx.registry.url],
        {
          cwd: dirs.HOME,
          env,
          timeoutMs
        }
      )
      if (!existsSync(ctx.tollgate))
        throw new StepError(`no ${ctx.tollgate} after the install`, tail(r.stdout + r.stderr))
      const lib = await diskUsage(join(prefix, "lib", "node_modules"))
      ctx.cliFootprint = lib
      return `${mb(lib.bytes)} (${lib.bytes} bytes apparent, ${lib.allocated} allocated, ${lib.files} files) under ${"<prefix>/lib/node_modules"}, ${(r.ms / 1000).toFixed(0)} s`
    }
  },
  {
    id: "cli-footprint",
    title: `@tollgate/cli: zero dependencies, ≤ ${mb(CLI_MAX_BYTES)}`,
    needs: ["cli-install"],
    timeoutMs: 10_000,
    run: async () => {
      const installed = await readdir(join(prefix, "lib", "node_modules"), { recursive: true })
      const deps = installed.filter(
        (p) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+$/.test(p) && !p.startsWith("@tollgate/cli/node_modules/.bin")
      )
      const manifest = ctx.packages.find((p) => p.name === "@tollgate/cli")?.manifest ?? {}
      const declared = Object.keys(manifest.dependencies ?? {})
      const why = []
      if (declared.length > 0) why.push(`declares dependencies: ${declared.join(", ")}`)
      if (ctx.cliFootprint.bytes > CLI_MAX_BYTES)
        why.push(`install is ${mb(ctx.cliFootprint.bytes)} > ${mb(CLI_MAX_BYTES)}`)
      if (why.length > 0) throw new StepError(`apps/cli/package.json: ${why.join("; ")}`, deps.slice(0, 20).join("\n"))
      return `no dependencies, ${mb(ctx.cliFootprint.bytes)}`
    }
  },
  {
    id: "cli-help",
    title: "tollgate --help",
    needs: ["cli-install"],
    timeoutMs: 30_000,
    run: async ({ timeoutMs }) => {
      const r = await runOk("tollgate --help", ctx.tollgate, ["--help"], { cwd: dirs.HOME, env, timeoutMs })
      if (!/tollgate/i.test(r.stdout)) throw new StepError("--help printed no usage", tail(r.stdout + r.stderr))
      return `${r.stdout.split("\n").length} lines in ${r.ms.toFixed(0)} ms`
    }
  },
  {
    id: "cli-doctor",
    title: "tollgate doctor --json",
    needs: ["cli-install"],
    timeoutMs: 30_000,
    run: async ({ timeoutMs }) => {
      const r = await runOk("tollgate doctor --json", ctx.tollgate, ["doctor", "--json"], {
        cwd: dirs.HOME,
        env,
        timeoutMs
      })
      try {
        JSON.parse(r.stdout)
      } catch {
        throw new StepError("doctor --json did not print one JSON document", tail(r.stdout + r.stderr))
      }
      return `valid JSON in ${r.ms.toFixed(0)} ms`
    }
  },
  {
    id: "statusline",
    title: `tollgate statusline install; the written command ≤ ${STATUSLINE_MAX_RATIO}× node -e 0`,
    needs: ["cli-install"],
    timeoutMs: 120_000,
    run: async ({ timeoutMs }) => {
      await runOk("tollgate statusline install", ctx.tollgate, ["statusline", "install"], {
        cwd: dirs.HOME,
        env,
        timeoutMs
      })
      const settingsPath = join(dirs.HOME, ".claude", "settings.json")
      const settings = JSON.parse(await readFile(settingsPath, "utf8"))
      const line = settings?.statusLine?.command
      if (typeof line !== "string") throw new StepError(`no statusLine.command in $HOME/.claude/settings.json`)
      const why = []
      if (/tsx|\/src\/|\.ts\b/.test(line)) why.push("it runs TypeScript sources / tsx")
      if (!line.includes(join(prefix, "lib", "node_modules", "@tollgate", "cli")))
        why.push("it does not run the installed package")
      if (why.length > 0) throw new StepError(`statusline install wrote \`${line}\`: ${why.join("; ")}`)
      const sample = statuslineSample()
      const once = await run("/bin/sh", ["-c", line], { cwd: dirs.HOME, env, input: sample, timeoutMs: 10_000 })
      if (once.code !== 0 || once.stdout.trim() === "") {
        throw new StepError(
          `the written command exited ${once.code} with ${once.stdout.trim() === "" ? "no" : "some"} output`,
          tail(once.stdout + once.stderr)
        )
      }
      const t = interleavedStartup({ line, env, cwd: dirs.HOME, input: sample, rounds: 15 })
      ctx.statusline = t
      const measured = `${t.ratio.toFixed(2)}× (${t.commandMs.toFixed(1)} ms vs node -e 0 ${t.baselineMs.toFixed(1)} ms, medians of ${t.rounds} interleaved rounds)`
      if (t.ratio > STATUSLINE_MAX_RATIO)
        throw new StepError(`statusline render ${measured} > ${STATUSLINE_MAX_RATIO}×`, `command: ${line}`)
      return `\`${line.replace(root, "<tmp>")}\` renders "${once.stdout.trim().split("\n")[0].slice(0, 60)}"; ${measured}`
    }
  },
  {
    id: "daemon-dry-run",
    title: "tollgate daemon install --dry-run",
    needs: ["cli-install"],
    timeoutMs: 30_000,
    run: async ({ timeoutMs }) => {
      const r = await runOk("tollgate daemon install --dry-run", ctx.tollgate, ["daemon", "install", "--dry-run"], {
        cwd: dirs.HOME,
        env,
        timeoutMs
      })
      const out = r.stdout + r.stderr
      const installed = join(prefix, "lib", "node_modules", "@tollgate", "cli", "dist", "tollgate.js")
      if (/tsx|\/src\/[^\s]*\.ts/.test(out))
        throw new StepError("the unit it would write runs TypeScript sources / tsx", tail(out))
      if (!out.includes(installed))
        throw new StepError("the unit it would write does not run the installed dist/tollgate.js", tail(out))
      const exec = /^ExecStart=(.*)$/m.exec(out)?.[1] ?? /<string>([^<]*tollgate\.js)<\/string>/.exec(out)?.[1] ?? ""
      return `prints a unit running \`${exec.replace(root, "<tmp>")}\``
    }
  },
  {
    id: "imports",
    title: "each package imports with only its declared dependencies",
    needs: ["publish"],
    timeoutMs: 300_000,
    run: async ({ timeoutMs }) => {
      // Three at a time: each is mostly waiting on the registry; results keep the packages' order.
      const results = new Array(ctx.packages.length)
      let next = 0
      const worker = async () => {
        while (next < ctx.packages.length) {
          const i = next++
          const p = ctx.packages[i]
          results[i] = await probeImport(p, timeoutMs).catch((e) => ({ name: p.name, error: e }))
        }
      }
      await Promise.all([worker(), worker(), worker()])
      const failed = results.filter((r) => r.error)
      const lines = results.map((r) => (r.error ? `${r.name}: ${r.error.message}` : `${r.name}: ${r.detail}`))
      if (failed.length > 0) {
        throw new StepError(
          `${failed.length}/${results.length} failed: ${failed.map((r) => r.name).join(", ")}`,
          [...lines, ...failed.map((r) => `--- ${r.name} ---\n${r.error.output ?? ""}`)].join("\n")
        )
      }
      return `\n      ${lines.join("\n      ")}`
    }
  },
  {
    id: "opencode",
    title: "real opencode loads @tollgate/opencode@<version> from the registry",
    needs: ["publish"],
    timeoutMs: 150_000,
    run: ({ timeoutMs }) =>
      opencodeLoadsPublishedPlugin({
        repo,
        registryUrl: ctx.registry.url,
        version: ctx.versions.get("@tollgate/opencode"),
        timeoutMs: timeoutMs - 15_000
      })
  }
]

/** The workspace packages that are not private, with their (post `changeset version`) versions. */
async function publicPackages(dir) {
  const found = []
  for (const group of ["packages", "apps"]) {
    for (const name of (await readdir(join(dir, group))).sort()) {
      const path = join(dir, group, name, "package.json")
      if (!existsSync(path)) continue
      const manifest = JSON.parse(await readFile(path, "utf8"))
      if (manifest.private !== true)
        found.push({ name: manifest.name, version: manifest.version, dir: join(group, name) })
    }
  }
  return found
}

/** Claude Code's statusLine stdin (reference, section 4), with both rate-limit windows. */
function statuslineSample() {
  const later = (h) => Math.floor(Date.now() / 1000) + h * 3600
  return JSON.stringify({
    session_id: "0b6c3f2e-1111-4222-8333-444455556666",
    transcript_path: join(dirs.HOME, "transcript.jsonl"),
    cwd: dirs.HOME,
    model: { id: "claude-opus-4-1", display_name: "Opus" },
    workspace: { current_dir: dirs.HOME, project_dir: dirs.HOME },
    version: "2.1.330",
    cost: { total_cost_usd: 0.42, total_duration_ms: 1000 },
    context_window: { used_percentage: 12 },
    rate_limits: {
      five_hour: { used_percentage: 42, resets_at: later(3) },
      seven_day: { used_percentage: 13, resets_at: later(100) }
    }
  })
}

/**
 * `npm i <name>@<version>` alone into a fresh project, then `await import(name)` there. A package with no
 * entry point (bin only: `@tollgate/cli`) is checked by running its bin instead.
 */
async function probeImport(p, timeoutMs) {
  const project = await mkdtemp(join(dirs.TMPDIR, "import-probe-"))
  try {
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "import-probe", version: "0.0.0", private: true })
    )
    const spec = `${p.name}@${p.version}`
    await runOk(`npm i ${spec}`, "npm", ["i", spec, "--prefer-offline", "--registry", ctx.registry.url], {
      cwd: project,
      env,
      timeoutMs
    })
    const size = await diskUsage(join(project, "node_modules"))
    if (p.name === "@tollgate/opencode") ctx.opencodeFootprint = size
    const m = p.manifest ?? {}
    const deps = Object.keys(m.dependencies ?? {}).length
    const footprint = `${mb(size.bytes)} installed, ${deps} declared dependencies`
    if (m.exports === undefined && m.main === undefined && m.module === undefined) {
      const bins = typeof m.bin === "string" ? [p.name.split("/").pop()] : Object.keys(m.bin ?? {})
      if (bins.length === 0) throw new StepError(`${spec} has neither an entry point nor a bin`)
      await runOk(`${bins[0]} --help`, join(project, "node_modules", ".bin", bins[0]), ["--help"], {
        cwd: project,
        env,
        timeoutMs: 30_000
      })
      return { name: p.name, detail: `bin only: \`${bins[0]} --help\` runs; ${footprint}` }
    }
    const code = `await import(${JSON.stringify(p.name)})`
    await runOk(`import('${p.name}')`, process.execPath, ["--input-type=module", "-e", code], {
      cwd: project,
      env,
      timeoutMs: 30_000
    })
    return { name: p.name, detail: `imports; ${footprint}` }
  } finally {
    await rm(project, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------

const outcome = new Map()
let finished = false

const cleanup = async () => {
  killAll()
  await ctx.registry?.stop().catch(() => {})
  // Retries: a child killed a moment ago may still be writing into the tree.
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch((e) =>
    say(`could not remove ${root}: ${e.message}`)
  )
}

const summary = () => {
  const lines = [
    "",
    `release test summary (${((performance.now() - started) / 1000).toFixed(0)} s, limit ${TOTAL_MS / 1000} s)`
  ]
  let ok = true
  for (const step of steps) {
    const o = outcome.get(step.id) ?? { status: "not run", detail: finished ? "" : "(time limit reached)" }
    if (o.status !== "pass") ok = false
    const mark = { pass: "PASS", fail: "FAIL", skip: "SKIP" }[o.status] ?? "----"
    const time = o.ms === undefined ? "" : ` (${(o.ms / 1000).toFixed(1)} s)`
    lines.push(`  ${mark} ${step.title}${time}${o.detail ? `: ${o.detail}` : ""}`)
    if (o.output) lines.push(o.output.replace(/^/gm, "       | "))
  }
  if (ctx.cliFootprint || ctx.opencodeFootprint || ctx.statusline) {
    lines.push("  measured:")
    if (ctx.cliFootprint)
      lines.push(
        `    install footprint @tollgate/cli (npm i -g): ${ctx.cliFootprint.bytes} bytes (${mb(ctx.cliFootprint.bytes)})`
      )
    if (ctx.opencodeFootprint)
      lines.push(
        `    install footprint @tollgate/opencode (npm i, with its dependencies): ${ctx.opencodeFootprint.bytes} bytes (${mb(ctx.opencodeFootprint.bytes)})`
      )
    if (ctx.statusline)
      lines.push(
        `    statusline render / node -e 0: ${ctx.statusline.ratio.toFixed(2)}× (target ≤ ${STATUSLINE_MAX_RATIO}×)`
      )
  }
  lines.push(ok ? "release test: PASS" : "release test: FAIL")
  process.stdout.write(`${redact(lines.join("\n"), secrets)}\n`)
  // Counted by scripts/test-summary.mjs in `pnpm test`'s closing line, one test per step (a step not run failed).
  const count = (status) => steps.filter((step) => (outcome.get(step.id)?.status ?? "fail") === status).length
  writeFileSync(
    join(SOURCE, RESULTS_FILE),
    `${JSON.stringify({ numPassedTests: count("pass"), numFailedTests: steps.length - count("pass") - count("skip"), numPendingTests: count("skip") })}\n`
  )
  return ok
}

let aborting = false
const abort = async (why) => {
  if (aborting) return
  aborting = true
  say(why)
  killAll()
  summary()
  await cleanup()
  process.exit(1)
}

const limit = setTimeout(() => void abort(`time limit of ${TOTAL_MS / 1000} s reached; stopping`), TOTAL_MS)
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => void abort(`${signal}: stopping`))

say(`temp root ${root}; upstream registry ${UPSTREAM}; pnpm store ${STORE || "(pnpm default)"}`)
for (const step of steps) {
  if (aborting) await new Promise(() => {}) // abort() prints, cleans up and exits.
  const missing = (step.needs ?? []).filter((id) => outcome.get(id)?.status !== "pass")
  if (missing.length > 0) {
    outcome.set(step.id, { status: "skip", detail: `needs ${missing.join(", ")}` })
    continue
  }
  say(`${step.title} …`)
  const t0 = performance.now()
  try {
    const detail = await step.run({ timeoutMs: step.timeoutMs })
    outcome.set(step.id, { status: "pass", detail: redact(detail ?? "", secrets), ms: performance.now() - t0 })
  } catch (error) {
    if (aborting) await new Promise(() => {})
    const message = error instanceof Error ? error.message : String(error)
    const output = error instanceof StepError ? error.output : error?.stack
    outcome.set(step.id, {
      status: "fail",
      detail: redact(message, secrets),
      output: output ? redact(output, secrets) : "",
      ms: performance.now() - t0
    })
    say(`FAILED: ${redact(message, secrets)}`)
  }
}
finished = true
clearTimeout(limit)
const ok = summary()
await cleanup()
process.exit(ok ? 0 : 1)
