/**
 * opencode's own credential file, `$XDG_DATA_HOME/opencode/auth.json`: where
 * it is. The opencode plugin hands this path to {@link AuthorizedFetch} as
 * `authFile`, so a refresh of the auth.json login happens under the lock next
 * to it (`internal/authFile.ts`).
 *
 * @since 0.1.0
 */
export { defaultAuthFile } from "./internal/authFile.js"
