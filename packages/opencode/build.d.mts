/** Builds the plugin bundle to `outfile` (default dist/tollgate-opencode.js). */
export declare const bundle: (outfile?: string) => Promise<unknown>
