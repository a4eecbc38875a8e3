// `pnpm --filter @tollgate/gateway bench`: what the gateway adds to a request.
// This process is only the load generator; the simulator and the gateway run
// in child processes of their own (bench/children.ts), so neither the
// client's event loop nor the simulator's shares the gateway's CPU, and the
// gateway's RSS is its own. Every speed is a difference and a ratio against
// calling the simulator directly, measured in the same run, interleaved.
// Prints tables, writes bench-results.json beside package.json, and exits 1
// when a hard target is missed:
//   - non-streaming POST /v1/messages: p50(gateway) − p50(direct) ≤ 0.5 ms
//   - a paced stream's first body byte: p50(gateway) − p50(direct) ≤ 1 ms
//   - 200 concurrent paced streams through the gateway all complete
// Informational rows: two minimal forwarders in the gateway's process (a
// node:http server with fetch upstream, and a bare node:http pipe), to show
// what @effect/platform (which the gateway left for plain node:http after
// measuring it here) and the request path cost over a plain hop; the
// gateway process's RSS around the 200 streams. `--profile` adds a CPU
// profile of the gateway process over the non-streaming requests.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import * as os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { count, met, ratio, section } from "@tollgate/conformance/BenchTable"
import * as OAuthConfig from "@tollgate/core/OAuthConfig"
import * as Children from "./children.js"
import { concurrentAgent, messageBody, sequentialAgent, type Target } from "./client.js"
import * as ConcurrentStreams from "./concurrentStreams.js"
import * as Latency from "./latency.js"
import * as Profile from "./profile.js"

const RESULTS = fileURLToPath(new URL("../bench-results.json", import.meta.url))

const MAX_ADDED_MS = 0.5
const MAX_ADDED_FIRST_BYTE_MS = 1
const JSON_OPTIONS: Latency.Options = { warmup: 100, perTarget: 400, block: 20, stream: false }
// A gap between events long enough that a gateway holding the stream back would show it at once.
const FIRST_BYTE_PACE_MS = 2
const FIRST_BYTE_OPTIONS: Latency.Options = { warmup: 10, perTarget: 120, block: 10, stream: true }
const STREAMS = 200
// 6 events 100 ms apart: every stream is still open when the last one starts.
const STREAMS_PACE_MS = 100
const PROFILE_REQUESTS = 600

interface HardTarget {
  readonly name: string
  readonly met: boolean
  readonly detail: string
}

const ms = (x: number, digits = 3) => x.toFixed(digits)
const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1)

const latencyRows = (sides: ReadonlyArray<Latency.Side>, stream: boolean) =>
  sides.map((s, i) => [
    i === 0 ? `${s.name} (baseline)` : s.name,
    ms(s.p50),
    ms(s.p90),
    ms(s.p99),
    i === 0 ? "—" : ms(s.addedP50),
    i === 0 ? "—" : ms(s.addedPaired),
    i === 0 ? "1.00" : s.ratio.toFixed(2),
    ...(stream ? [ms(s.totalP50, 1)] : [])
  ])

const main = async (): Promise<number> => {
  const started = performance.now()
  const profiling = process.argv.includes("--profile")
  console.log(
    `# tollgate gateway bench — node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()}/${os.arch()}`
  )
  const root = await mkdtemp(join(os.tmpdir(), "tollgate-gateway-bench-"))
  const children = await Children.start(root)
  try {
    const oauthBeta = OAuthConfig.make().oauthBeta
    const common = {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "user-agent": "tollgate-gateway-bench/0"
    }
    const viaKey = { ...common, "x-api-key": children.gateway.key }
    const direct: Target = {
      name: "direct to the simulator",
      url: children.simulator.url,
      headers: { ...common, authorization: `Bearer ${children.simulator.login.access}`, "anthropic-beta": oauthBeta }
    }
    const { forwarders } = children.gateway
    const pipe: Target = { name: "node:http pipe", url: forwarders.pipe, headers: viaKey }
    const viaFetch: Target = { name: "node:http + fetch", url: forwarders.fetch, headers: viaKey }
    const viaPath: Target = { name: "node:http + request path", url: forwarders.requestPath, headers: viaKey }
    const viaPlatform: Target = { name: "@effect/platform + fetch", url: forwarders.platform, headers: viaKey }
    const viaPlatformBuffered: Target = {
      name: "@effect/platform + fetch, JSON buffered",
      url: forwarders.platformBuffered,
      headers: viaKey
    }
    const gateway: Target = { name: "tollgate gateway", url: children.gateway.url, headers: viaKey }
    const targets = [direct, pipe, viaFetch, viaPath, viaPlatform, gateway]
    const agent = sequentialAgent()

    // Non-streaming.
    await children.pace(0)
    const json = await Latency.run(
      agent,
      [direct, pipe, viaFetch, viaPath, viaPlatform, viaPlatformBuffered, gateway],
      messageBody(false),
      JSON_OPTIONS
    )
    const jsonGateway = json.find((s) => s.name === gateway.name)!
    const jsonMet = jsonGateway.addedP50 <= MAX_ADDED_MS
    const jsonPipe = json.find((s) => s.name === pipe.name)!
    console.log(
      section(
        `Non-streaming POST /v1/messages: ${JSON_OPTIONS.perTarget} sequential requests per target, interleaved`,
        ["target", "p50 ms", "p90 ms", "p99 ms", "p50 − direct ms", "paired blocks − direct ms", "p50 ÷ direct"],
        latencyRows(json, false),
        [
          `target: p50(gateway) − p50(direct) ≤ ${MAX_ADDED_MS} ms (hard) — met? ${met(jsonMet, true)} (${ms(jsonGateway.addedP50)} ms, ${jsonGateway.ratio.toFixed(2)}× direct)`,
          `the floor, one loopback hop through a bare node:http pipe, adds ${ms(jsonPipe.addedP50)} ms here; the gateway's own work beyond it: ${ms(jsonGateway.p50 - jsonPipe.p50)} ms (${(jsonGateway.p50 / jsonPipe.p50).toFixed(2)}× the pipe)`,
          `one keep-alive connection per target (node:http Agent, the same for all), body read to the end; blocks of ${JSON_OPTIONS.block} per target in rotating order after ${JSON_OPTIONS.warmup} warm-up requests per target; "paired blocks" is the median over rounds of (block median − direct's block median), a drift-resistant cross-check`,
          "processes: this one (client only), the simulator, the gateway with the baseline forwarders (idle while another target is measured)",
          "baselines, in the gateway's process, each checking the key and using the gateway's header filter: node:http pipe = node:http server piping into a keep-alive node:http request (one loopback hop, nothing else); node:http + fetch = node:http server, body read, signed undici fetch, answer written back as it arrives; + request path = the same server with the gateway's upstream (AuthorizedFetch, streamErrors pass) instead of fetch; @effect/platform + fetch = @effect/platform's server (NodeHttpServer.makeHandler, HttpServerResponse.fromWeb), which the gateway measured and left for plain node:http, with signed fetch instead of the request path; JSON buffered = the same, but an answer that is not an event stream is read whole and sent as HttpServerResponse.uint8Array instead of fromWeb's Effect Stream"
        ]
      )
    )

    // First byte of a paced stream.
    await children.pace(FIRST_BYTE_PACE_MS)
    const firstByte = await Latency.run(agent, targets, messageBody(true), FIRST_BYTE_OPTIONS)
    const fbGateway = firstByte.find((s) => s.name === gateway.name)!
    const fbMet = fbGateway.addedP50 <= MAX_ADDED_FIRST_BYTE_MS
    const fbDirect = firstByte[0]!
    const fbPipe = firstByte.find((s) => s.name === pipe.name)!
    console.log(
      section(
        `Time to the first streamed byte: ${FIRST_BYTE_OPTIONS.perTarget} sequential streams per target, one event every ${FIRST_BYTE_PACE_MS} ms, interleaved`,
        [
          "target",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "p50 − direct ms",
          "paired blocks − direct ms",
          "p50 ÷ direct",
          "whole stream p50 ms"
        ],
        latencyRows(firstByte, true),
        [
          `target: p50(gateway) − p50(direct) ≤ ${MAX_ADDED_FIRST_BYTE_MS} ms (hard) — met? ${met(fbMet, true)} (${ms(fbGateway.addedP50)} ms, ${fbGateway.ratio.toFixed(2)}× direct)`,
          `the floor, a bare node:http pipe, adds ${ms(fbPipe.addedP50)} ms here; the gateway's own work beyond it: ${ms(fbGateway.p50 - fbPipe.p50)} ms (${(fbGateway.p50 / fbPipe.p50).toFixed(2)}× the pipe)`,
          `first byte = request start → first body chunk at the client; the simulator writes the first event with the head and the other five ${FIRST_BYTE_PACE_MS} ms apart, so a gateway that held the stream back would add ≥ ${5 * FIRST_BYTE_PACE_MS} ms (whole stream direct: ${ms(fbDirect.totalP50, 1)} ms)`,
          `blocks of ${FIRST_BYTE_OPTIONS.block} per target after ${FIRST_BYTE_OPTIONS.warmup} warm-up streams per target; every stream read to message_stop`
        ]
      )
    )

    // 200 concurrent streams.
    await children.pace(STREAMS_PACE_MS)
    const many = concurrentAgent()
    const rounds: Array<
      ConcurrentStreams.Result & { rssBefore: number; rssAfter: number; heapBefore: number; heapAfter: number }
    > = []
    for (const target of [direct, gateway, gateway]) {
      const before = await children.memory(true)
      const rssBefore = children.rss()
      const r = await ConcurrentStreams.run(many, target, STREAMS, children.rss)
      await new Promise((resolve) => setTimeout(resolve, 200))
      const after = await children.memory(true)
      rounds.push({ ...r, rssBefore, rssAfter: children.rss(), heapBefore: before.heapUsed, heapAfter: after.heapUsed })
    }
    many.destroy()
    const directRound = rounds[0]!
    const gatewayRounds = rounds.slice(1)
    const streamsMet = gatewayRounds.every((r) => r.completed === STREAMS)
    console.log(
      section(
        `${STREAMS} concurrent streams, one event every ${STREAMS_PACE_MS} ms (gateway process memory)`,
        [
          "round",
          "completed",
          "peak open at once",
          "wall ms",
          "wall ÷ direct",
          "RSS before MB",
          "RSS peak MB",
          "RSS after MB",
          "peak − before MB",
          "after − before MB",
          "heap before MB",
          "heap after MB"
        ],
        rounds.map((r, i) => [
          i === 0 ? `direct to the simulator (gateway idle)` : `tollgate gateway #${i}`,
          `${r.completed}/${r.streams}`,
          r.peakOpen,
          count(r.wallMs),
          ratio(r.wallMs, directRound.wallMs),
          mb(r.rssBefore),
          mb(r.rssPeak),
          mb(r.rssAfter),
          mb(r.rssPeak - r.rssBefore),
          mb(r.rssAfter - r.rssBefore),
          mb(r.heapBefore),
          mb(r.heapAfter)
        ]),
        [
          `target: all ${STREAMS} streams complete through the gateway (hard) — met? ${met(streamsMet, true)}; RSS informational`,
          `RSS from /proc/<gateway pid>/status every ${ConcurrentStreams.SAMPLE_MS} ms while the streams run; "before" and "after" follow a forced GC in the gateway (--expose-gc), "after" 200 ms after the last stream ended; the second gateway round shows whether memory keeps growing`,
          `one connection per stream (node:http Agent, maxSockets ∞); a stream is complete when it ends with message_stop`
        ]
      )
    )

    // Where the gateway's time goes (optional).
    let profile: {
      readonly gateway: Profile.Summary
      readonly fetchForwarder: Profile.Summary
      readonly dir: string
    } | null = null
    if (profiling) {
      await children.pace(0)
      const dir = await mkdtemp(join(os.tmpdir(), "tollgate-gateway-profile-"))
      const profiled = async (target: Target) => {
        const file = join(dir, `${target.url.split(":").pop()}.cpuprofile`)
        await children.profile.start()
        await Latency.run(agent, [target], messageBody(false), {
          warmup: 0,
          perTarget: PROFILE_REQUESTS,
          block: PROFILE_REQUESTS,
          stream: false
        })
        await children.profile.stop(file)
        return Profile.summarize(file)
      }
      profile = { gateway: await profiled(gateway), fetchForwarder: await profiled(viaFetch), dir }
      const us = (s: Profile.Summary) => ((s.busyMs * 1000) / PROFILE_REQUESTS).toFixed(1)
      console.log(
        section(
          `CPU of the gateway process per non-streaming request (${PROFILE_REQUESTS} sequential requests, node:inspector sampling every 100 µs)`,
          ["target", "busy CPU µs / request", "÷ fetch forwarder"],
          [
            [viaFetch.name, us(profile.fetchForwarder), "1.00"],
            [gateway.name, us(profile.gateway), ratio(profile.gateway.busyMs, profile.fetchForwarder.busyMs)]
          ],
          [`profiles in ${dir} (open in Chrome DevTools or speedscope)`]
        )
      )
      const entries = (e: ReadonlyArray<Profile.Entry>) =>
        e.map((x) => [x.name, ((x.selfMs * 1000) / PROFILE_REQUESTS).toFixed(1), `${(x.share * 100).toFixed(1)}%`])
      console.log(
        section(
          "Gateway self time by package",
          ["package", "µs / request", "share of busy"],
          entries(profile.gateway.byPackage)
        )
      )
      console.log(
        section(
          "Gateway self time by function (top 15)",
          ["function", "µs / request", "share of busy"],
          entries(profile.gateway.byFunction)
        )
      )
    }

    const served = await children.count()
    console.log(
      `\nsimulator: ${served.messages} message requests, ${served.token} token requests (a fresh login is never refreshed)`
    )
    agent.destroy()

    const hard: Array<HardTarget> = [
      { name: `non-streaming: p50 added ≤ ${MAX_ADDED_MS} ms`, met: jsonMet, detail: `${ms(jsonGateway.addedP50)} ms` },
      {
        name: `first streamed byte: p50 added ≤ ${MAX_ADDED_FIRST_BYTE_MS} ms`,
        met: fbMet,
        detail: `${ms(fbGateway.addedP50)} ms`
      },
      {
        name: `${STREAMS} concurrent streams all complete`,
        met: streamsMet,
        detail: gatewayRounds.map((r) => `${r.completed}/${r.streams}`).join(", ")
      }
    ]
    const failed = hard.filter((t) => !t.met)
    const wallMs = Math.round(performance.now() - started)
    console.log(`\n## Hard targets: ${hard.length - failed.length}/${hard.length} met`)
    for (const t of failed) console.log(`- FAILED ${t.name} (${t.detail})`)
    console.log(`\nwall time ${(wallMs / 1000).toFixed(1)} s; results in ${RESULTS}`)
    const strip = (sides: ReadonlyArray<Latency.Side>) => sides.map(({ samples: _, ...rest }) => rest)
    await writeFile(
      RESULTS,
      `${JSON.stringify(
        {
          generatedAt: new Date().toISOString(),
          environment: {
            node: process.version,
            platform: os.platform(),
            arch: os.arch(),
            cpus: os.cpus().length,
            loadavg: os.loadavg()
          },
          wallMs,
          nonStreaming: {
            options: JSON_OPTIONS,
            sides: strip(json),
            maxAddedMs: MAX_ADDED_MS,
            met: jsonMet,
            overPipeMs: jsonGateway.p50 - jsonPipe.p50
          },
          firstByte: {
            options: FIRST_BYTE_OPTIONS,
            paceMs: FIRST_BYTE_PACE_MS,
            sides: strip(firstByte),
            maxAddedMs: MAX_ADDED_FIRST_BYTE_MS,
            met: fbMet,
            overPipeMs: fbGateway.p50 - fbPipe.p50
          },
          concurrentStreams: { streams: STREAMS, paceMs: STREAMS_PACE_MS, rounds, met: streamsMet },
          profile,
          hardTargets: hard,
          ok: failed.length === 0
        },
        null,
        2
      )}\n`
    )
    return failed.length === 0 ? 0 : 1
  } catch (error) {
    const log = children.stderr().trim()
    if (log !== "") console.error(`gateway/simulator stderr (last lines):\n${log.split("\n").slice(-20).join("\n")}`)
    throw error
  } finally {
    await children.close()
    await rm(root, { recursive: true, force: true })
  }
}

process.exitCode = await main()
