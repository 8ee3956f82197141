// Build-time pieces of the web UI (run by vite.config.ts, never shipped to
// the browser): the installable app's icons, manifest and service worker.
export { pwaPlugin, ICONS, MANIFEST_FILE, SW_FILE, type PwaPluginOptions } from './pwa-plugin.ts'
export { webManifest, BACKGROUND_COLOUR, THEME_COLOUR, type WebManifest, type ManifestIcon } from './manifest.ts'
export { iconPng, type IconPurpose } from './icons.ts'
export { encodePng, pngSize } from './png.ts'
