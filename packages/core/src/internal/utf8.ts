// TextDecoder is a web-standard global on every runtime we support (Node, Bun,
// browsers); declared here so core compiles against plain ES2022 without
// Node's or the DOM's type libraries.
declare const TextDecoder: new (
  label?: string,
  options?: { readonly fatal?: boolean }
) => { decode(input?: Uint8Array): string }

const decoder = new TextDecoder("utf-8", { fatal: false })

/** Decodes UTF-8, replacing invalid sequences; never throws. */
export const decodeUtf8 = (bytes: Uint8Array): string => decoder.decode(bytes)
