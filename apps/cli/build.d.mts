/**
 * Builds the `tollgate` executable (dispatcher `tollgate.js` and the bundles in `cli/`) into `outDir`
 * (default dist/), emptied first; resolves to the dispatcher's path.
 */
export declare const buildCli: (outDir?: string) => Promise<string>
/** The commands with a bundle of their own (dist/cli/<command>.cjs). */
export declare const SLIM: ReadonlyArray<string>
/** Every command's name, one per module in src/commands/. */
export declare const commandNames: () => Promise<Array<string>>
/** Command lines with an entry of their own (dist/cli/<bundle>.cjs from `source`), run without the CLI. */
export declare const ENTRIES: ReadonlyArray<{
  readonly args: ReadonlyArray<string>
  readonly bundle: string
  readonly source: string
}>
