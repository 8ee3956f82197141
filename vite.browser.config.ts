// The browser device's protocol bundle (src/browser -> dist/browser): the
// wire, dj_auth, device channel and torrent code of src/swarm, built from the
// same sources as the Node device with these substitutions (docs/browser.md,
// "Shims"; docs/decisions/browser-protocol-bundle.md):
//   node:crypto -> src/browser/shims/node-crypto.ts (@noble/hashes)
//   node:events, events -> src/browser/shims/events.ts (bare-events)
//   node:stream -> readable-stream
//   src/identity/keys.ts -> src/identity/keys-browser.ts (@noble/curves)
//   djcloud:brotli-wasm(-url) -> brotli-wasm's wasm-bindgen module and its .wasm (src/browser/brotli.ts)
// Buffer and process.nextTick are set by src/browser/shims/globals.ts.
import { defineConfig, type Plugin } from 'vite'
import { fileURLToPath } from 'node:url'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))
const KEYS = here('./src/identity/keys.ts')
const KEYS_BROWSER = here('./src/identity/keys-browser.ts')

/** Node modules that have a browser twin beside them: the twin is bundled instead. The UI's build can take it too. */
export function browserTwins(): Plugin {
  return {
    name: 'djcloud-browser-twins',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer || !source.startsWith('.')) return null
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
      return resolved?.id === KEYS ? KEYS_BROWSER : null
    },
  }
}

/** The aliases the portable modules need in a page; the UI's build can take the same. */
export const browserShims = {
  'node:crypto': here('./src/browser/shims/node-crypto.ts'),
  'node:events': here('./src/browser/shims/events.ts'),
  events: here('./src/browser/shims/events.ts'),
  'node:stream': 'readable-stream',
  // Past the package's exports (its entry's loader fetches a URL the node's CSP refuses in a library build): src/browser/brotli.ts.
  'djcloud:brotli-wasm-url': here('./node_modules/brotli-wasm/pkg.web/brotli_wasm_bg.wasm') + '?url',
  'djcloud:brotli-wasm': here('./node_modules/brotli-wasm/pkg.web/brotli_wasm.js'),
}

export default defineConfig({
  publicDir: false,
  plugins: [browserTwins()],
  resolve: { alias: browserShims },
  build: {
    outDir: here('./dist/browser'),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    reportCompressedSize: false,
    lib: { entry: here('./src/browser/index.ts'), formats: ['es'], fileName: () => 'djcloud-device.js' },
  },
  logLevel: 'warn',
})
