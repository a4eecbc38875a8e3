// The messages between the bench (the load generator) and its two child
// processes, the simulator and the gateway. Tokens travel over the IPC
// channel only: never in argv or the environment, where `ps` would show them.

/** The login the simulator seeded, as the gateway's one account. */
export interface Login {
  readonly access: string
  readonly refresh: string | null
  readonly expires: number
  readonly scopes: ReadonlyArray<string>
}

export type SimulatorMessage =
  | { readonly type: "ready"; readonly url: string; readonly login: Login }
  | { readonly type: "paced"; readonly ms: number }
  | { readonly type: "counted"; readonly messages: number; readonly token: number }

export type SimulatorCommand = { readonly type: "pace"; readonly ms: number } | { readonly type: "count" }

export type GatewayCommand =
  | { readonly type: "start"; readonly upstream: string; readonly login: Login }
  | { readonly type: "memory"; readonly gc: boolean }
  /** CPU profiling through node:inspector, started and stopped around one phase; `stop` writes `file`. */
  | { readonly type: "profile"; readonly action: "start" }
  | { readonly type: "profile"; readonly action: "stop"; readonly file: string }

export interface Memory {
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
  readonly inFlight: number
}

export type GatewayMessage =
  | {
      readonly type: "ready"
      readonly gateway: string
      readonly key: string
      /** The baseline forwarders' URLs (bench/baselineForwarders.ts). */
      readonly forwarders: {
        readonly pipe: string
        readonly fetch: string
        readonly requestPath: string
        readonly platform: string
        readonly platformBuffered: string
      }
    }
  | ({ readonly type: "memory" } & Memory)
  | { readonly type: "profiled"; readonly action: "start" | "stop" }
