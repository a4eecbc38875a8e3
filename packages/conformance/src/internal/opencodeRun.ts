// Running opencode in a throwaway home: one child per call with exactly the home's environment,
// stdin closed or fed a fixed input, and a hard timeout that kills its whole process group.
import { spawn } from "node:child_process"
import type { LoginOptions, OpenCodeResult, RunOptions, RunResult, SpawnOptions } from "../OpenCode.js"
import { opencodeBinary } from "./opencodeBinary.js"

// CSI sequences (colours, cursor moves) and the two-byte ESC forms clack uses.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g

export const stripAnsi = (text: string): string => text.replace(ANSI, "")

export const opencodeSpawn = (options: SpawnOptions): Promise<OpenCodeResult> =>
  new Promise((resolvePromise, reject) => {
    const started = Date.now()
    const timeoutMs = options.timeoutMs ?? 60_000
    const child = spawn(options.binary ?? opencodeBinary(), [...options.args], {
      env: { ...options.home.env, ...options.env },
      cwd: options.home.project,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // Its own process group, so a timeout can kill anything it started.
      detached: true
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
      } catch {
        child.kill("SIGKILL")
      }
    }, timeoutMs)
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk))
    if (options.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {})
      child.stdin.end(options.input)
    }
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      const out = Buffer.concat(stdout).toString("utf8")
      const err = Buffer.concat(stderr).toString("utf8")
      resolvePromise({
        exitCode: code ?? -1,
        signal,
        timedOut,
        stdout: out,
        stderr: err,
        text: stripAnsi(out + err),
        durationMs: Date.now() - started
      })
    })
  })

export const opencodeRun = async (options: RunOptions): Promise<RunResult> => {
  const args = ["run"]
  if (options.format === "json") args.push("--format", "json")
  if (options.title !== undefined) args.push("--title", options.title)
  if (options.model !== undefined) args.push("--model", options.model)
  args.push(...(options.extraArgs ?? []), options.prompt)
  const result = await opencodeSpawn({ ...options, args })
  const events: Array<Record<string, unknown>> = []
  if (options.format === "json") {
    for (const line of result.stdout.split("\n")) {
      try {
        const value: unknown = JSON.parse(line)
        if (typeof value === "object" && value !== null && !Array.isArray(value)) {
          events.push(value as Record<string, unknown>)
        }
      } catch {
        // Not an event line.
      }
    }
  }
  return { ...result, events }
}

// The prompt ignores `\n`, so the pasted code ends with a carriage return; no pty is needed.
export const opencodeLogin = (options: LoginOptions): Promise<OpenCodeResult> =>
  opencodeSpawn({
    ...options,
    args: ["providers", "login", "-p", options.provider ?? "anthropic", "-m", options.method],
    input: `${options.code}\r`
  })
