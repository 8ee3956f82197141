// brotli-wasm's wasm-bindgen module and its .wasm URL, as the builds alias
// them (vite.browser.config.ts; brotli.ts says why): the package's `exports`
// name only its entry, whose own loader fetches a URL the node's CSP refuses
// in the library build.
declare module 'djcloud:brotli-wasm' {
  export default function init(input?: string | URL | BufferSource): Promise<unknown>
  export function compress(buf: Uint8Array, options?: { quality?: number }): Uint8Array
  export function decompress(buf: Uint8Array): Uint8Array
  export const BrotliStreamResultCode: { readonly ResultSuccess: number; readonly NeedsMoreInput: number; readonly NeedsMoreOutput: number }
  export class DecompressStream {
    constructor()
    free(): void
    decompress(input: Uint8Array, outputSize: number): { buf: Uint8Array; code: number; input_offset: number }
    total_out(): number
  }
}
declare module 'djcloud:brotli-wasm-url' {
  const url: string
  export default url
}
