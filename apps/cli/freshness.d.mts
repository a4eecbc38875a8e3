/** The newest time (epoch ms) among what the CLI bundles in the checkout at `root`: apps/cli, packages/*, the lockfile. */
export declare const sourcesNewestAt: (root: string) => number
