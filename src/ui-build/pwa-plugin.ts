// The Vite plugin that makes the built UI installable and usable offline: it
// draws the icons, writes manifest.webmanifest, and builds the service worker
// (src/ui/sw, by esbuild) into sw.js with this build's id and the list of
// its files to precache, both known only once Vite has named the bundle.
import { createHash } from 'node:crypto'
import { build } from 'esbuild'
import type { Plugin } from 'vite'
import { iconPng, type IconPurpose } from './icons.ts'
import { webManifest, type ManifestIcon } from './manifest.ts'

/** Chromium's install criteria want a 192 and a 512 px "any" icon; launchers that crop want a maskable one. */
export const ICONS: ReadonlyArray<{ size: number; purpose: IconPurpose }> = [
  { size: 192, purpose: 'any' },
  { size: 512, purpose: 'any' },
  { size: 512, purpose: 'maskable' },
]
export const MANIFEST_FILE = 'manifest.webmanifest'
export const SW_FILE = 'sw.js'

export interface PwaPluginOptions {
  /** The service worker's entry (src/ui/sw/sw.ts). */
  swEntry: string
}

export function pwaPlugin({ swEntry }: PwaPluginOptions): Plugin {
  return {
    name: 'djcloud-pwa',
    apply: 'build',
    async generateBundle(_output, bundle) {
      const icons: ManifestIcon[] = ICONS.map(({ size, purpose }) => {
        const ref = this.emitFile({ type: 'asset', name: `icon-${purpose}-${size}.png`, source: iconPng(size, purpose) })
        return { src: `/${this.getFileName(ref)}`, sizes: `${size}x${size}`, type: 'image/png', purpose }
      })
      this.emitFile({ type: 'asset', fileName: MANIFEST_FILE, source: `${JSON.stringify(webManifest(icons), null, 2)}\n` })
      const files = new Set([...Object.keys(bundle).filter((f) => f.startsWith('assets/')).map((f) => `/${f}`), ...icons.map((i) => i.src), `/${MANIFEST_FILE}`])
      const precache = [...files].sort()
      // The build's id: its files' names carry their content hashes, so the list names the build.
      const version = createHash('sha256').update(JSON.stringify(precache)).digest('hex').slice(0, 16)
      const out = await build({
        entryPoints: [swEntry],
        bundle: true,
        write: false,
        format: 'iife',
        target: 'es2022',
        minify: true,
        legalComments: 'none',
        define: { __DJCLOUD_SW_VERSION__: JSON.stringify(version), __DJCLOUD_SW_PRECACHE__: JSON.stringify(precache) },
        logLevel: 'warning',
      })
      this.emitFile({ type: 'asset', fileName: SW_FILE, source: out.outputFiles[0]!.text })
    },
  }
}
