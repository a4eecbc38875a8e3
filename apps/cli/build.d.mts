/**
 * Builds the `tollgate` executable (dispatcher `tollgate.js` and full CLI `cli.mjs`) into `outDir`
 * (default dist/), emptied first; resolves to the dispatcher's path.
 */
export declare const buildCli: (outDir?: string) => Promise<string>
