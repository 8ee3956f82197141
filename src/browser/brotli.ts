// Brotli for the manifest blobs a browser device publishes and takes in
// (docs/browser.md, "Playlists: the page writes as itself"). A page has no
// node:zlib and no brotli in CompressionStream everywhere, so it uses a kept
// library, brotli-wasm (httptoolkit), loaded on first use: its WASM (~1 MB)
// is fetched only by a page that publishes or reads a manifest. Blobs are
// addressed by the hash of their compressed bytes, so any valid brotli
// stream will do: a page's blob need not equal Node's byte for byte.
//
// The builds alias `djcloud:brotli-wasm` to the package's wasm-bindgen
// module and `djcloud:brotli-wasm-url` to its .wasm as a URL
// (vite.browser.config.ts): the app's build emits the .wasm as an asset of
// its own origin; the library build (dist/browser) inlines it as a data: URL,
// which the page decodes here, since the node's CSP lets it fetch only from
// 'self'. Compiling WASM needs 'wasm-unsafe-eval' in that CSP.
/// <reference path="./brotli-wasm.d.ts" />
import { ManifestError } from '../manifest/browser.ts'

type BrotliWasmType = typeof import('djcloud:brotli-wasm')

/** As Node's packBlob: within a few percent of the best ratio on bencoded manifests, fast. */
const QUALITY = 5
/** Bytes of output asked of the decoder at a time, so a bomb is stopped at the cap, not after. */
const CHUNK = 64 * 1024

let loading: Promise<BrotliWasmType> | undefined
const brotli = (): Promise<BrotliWasmType> => {
  loading ??= (async () => {
    const [m, url] = await Promise.all([import('djcloud:brotli-wasm'), import('djcloud:brotli-wasm-url')])
    const src = url.default
    await m.default(src.startsWith('data:') ? Uint8Array.from(atob(src.slice(src.indexOf(',') + 1)), (c) => c.charCodeAt(0)) : src)
    return m
  })()
  // A failed load (offline, refused) is tried again on the next use.
  loading.catch(() => (loading = undefined))
  return loading
}

export async function compress(plain: Uint8Array): Promise<Buffer> {
  const b = await brotli()
  return Buffer.from(b.compress(plain, { quality: QUALITY }))
}

/** Inflates a blob, refusing past `maxBytes` (ERR_TOO_LARGE) or anything not a whole brotli stream (ERR_MALFORMED). */
export async function decompress(data: Uint8Array, maxBytes: number): Promise<Buffer> {
  const b = await brotli()
  const stream = new b.DecompressStream()
  const parts: Uint8Array[] = []
  let total = 0
  let offset = 0
  try {
    for (;;) {
      const r = stream.decompress(data.subarray(offset), CHUNK)
      offset += r.input_offset
      total += r.buf.length
      if (total > maxBytes) throw new ManifestError('ERR_TOO_LARGE', `a blob inflates past the ${maxBytes}-byte cap`)
      parts.push(r.buf)
      if (r.code === b.BrotliStreamResultCode.ResultSuccess) break
      if (r.code === b.BrotliStreamResultCode.NeedsMoreInput) throw new ManifestError('ERR_MALFORMED', 'a blob is not valid compressed data: it ends early')
    }
  } catch (err) {
    if (err instanceof ManifestError) throw err
    throw new ManifestError('ERR_MALFORMED', `a blob is not valid compressed data: ${(err as Error).message ?? String(err)}`)
  } finally {
    stream.free()
  }
  if (offset !== data.length) throw new ManifestError('ERR_MALFORMED', 'a blob is not valid compressed data: bytes after its end')
  return Buffer.concat(parts)
}
