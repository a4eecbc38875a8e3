import type { BuildOptions, BuildResult } from "esbuild"

/** The esbuild options of the bundle (minified, tree-shaken, one ES module, metafile on); `outfile` is added by `bundle`. */
export declare const options: BuildOptions

/** Where `node build.mjs` writes the bundle (dist/tollgate-opencode.js in this package), an absolute path. */
export declare const OUTFILE: string

/** Builds the plugin bundle to `outfile` (default dist/tollgate-opencode.js); resolves to esbuild's result, metafile included. */
export declare const bundle: (outfile?: string) => Promise<BuildResult<{ metafile: true }>>
