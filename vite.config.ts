// The web app (src/ui) bundled to dist/ui, which the node serves at /.
// JSX goes through Vite's own esbuild (no React plugin: it needs a newer npm
// than CI's); no Fast Refresh, which only the dev server would use.
import { defineConfig } from 'vite'
import { fileURLToPath } from 'node:url'
import { pwaPlugin } from './src/ui-build/index.ts'
import { browserShims, browserTwins } from './vite.browser.config.ts'

const root = fileURLToPath(new URL('./src/ui', import.meta.url))
const outDir = fileURLToPath(new URL('./dist/ui', import.meta.url))
const swEntry = fileURLToPath(new URL('./src/ui/sw/sw.ts', import.meta.url))
const pageDevice = fileURLToPath(new URL('./src/browser/page.ts', import.meta.url))

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  esbuild: { jsx: 'automatic' },
  // Icons, manifest.webmanifest and sw.js (installable, offline): src/ui-build.
  // The paired browser's runtime (src/browser/page.ts, a chunk of its own,
  // loaded only on a paired browser) with the shims of the browser bundle.
  plugins: [pwaPlugin({ swEntry }), browserTwins()],
  resolve: { alias: { ...browserShims, 'djcloud:page-device': pageDevice } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // The node's CSP allows only 'self' scripts: no inline polyfill.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  logLevel: 'warn',
})
