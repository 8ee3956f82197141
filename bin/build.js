#!/usr/bin/env node
// Bundles src/ into dist/djcloud.js (dependencies stay external), so the
// command starts without tsx's loader thread: ~35 MB and ~0.3 s less per run.
// Runs on `npm install` (prepare); bin/djcloud.js falls back to the sources
// through tsx whenever the bundle is missing or older than src/.
// It also builds the web app (src/ui, by Vite) into dist/ui when that is
// missing or older than its sources.
import { build } from 'esbuild'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

export const ENTRY = new URL('../src/cli/main.ts', import.meta.url).pathname
export const OUTFILE = new URL('../dist/djcloud.js', import.meta.url).pathname
// The analysis pool's worker runs in a thread of its own, from a file of its own.
export const WORKER_ENTRY = new URL('../src/analysis/worker.ts', import.meta.url).pathname
export const WORKER_OUTFILE = new URL('../dist/analysis-worker.js', import.meta.url).pathname

export async function buildCli() {
  await build({
    entryPoints: [WORKER_ENTRY],
    outfile: WORKER_OUTFILE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  })
  await build({
    entryPoints: [ENTRY],
    outfile: OUTFILE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked', // used when DJCLOUD_DEBUG is set
    logLevel: 'warning',
  })
}

export const UI_SOURCES = new URL('../src/ui', import.meta.url).pathname
// The build's own plugin (icons, manifest, service worker) is a source of dist/ui too.
export const UI_BUILD_SOURCES = new URL('../src/ui-build', import.meta.url).pathname
// The paired browser's runtime is a chunk of the app (src/browser/page.ts and what it bundles).
export const UI_RUNTIME_SOURCES = ['browser', 'swarm', 'rtc', 'identity', 'manifest', 'library', 'codec'].map((d) => new URL(`../src/${d}`, import.meta.url).pathname)
export const UI_CONFIG = new URL('../vite.config.ts', import.meta.url).pathname
export const UI_INDEX = new URL('../dist/ui/index.html', import.meta.url).pathname

async function newestMtime(path) {
  const s = await stat(path)
  if (!s.isDirectory()) return s.mtimeMs
  let newest = s.mtimeMs
  for (const e of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, e)))
  return newest
}

/** Builds dist/ui unless it is newer than src/ui, src/ui-build, vite.config.ts and the runtime's sources. */
export async function buildUi({ force = false } = {}) {
  if (!force) {
    const built = await stat(UI_INDEX).then((s) => s.mtimeMs, () => 0)
    const runtime = await Promise.all(UI_RUNTIME_SOURCES.map((d) => newestMtime(d)))
    const sources = Math.max(await newestMtime(UI_SOURCES), await newestMtime(UI_BUILD_SOURCES), (await stat(UI_CONFIG)).mtimeMs, ...runtime)
    if (built > sources) return
  }
  let vite
  try {
    vite = await import('vite')
  } catch {
    // An install without devDependencies: the published package ships dist/ui.
    console.warn('djcloud build: vite is not installed; the web UI (dist/ui) was not rebuilt')
    return
  }
  await vite.build({ configFile: UI_CONFIG, logLevel: 'warn' })
}

// The browser device's protocol bundle (src/browser and the portable parts
// of swarm, identity, library, codec and log) to dist/browser, by Vite with
// the shims of vite.browser.config.ts (docs/browser.md).
export const BROWSER_SOURCES = ['browser', 'swarm', 'identity', 'library', 'codec', 'log', 'manifest', 'rtc'].map((d) => new URL(`../src/${d}`, import.meta.url).pathname)
export const BROWSER_CONFIG = new URL('../vite.browser.config.ts', import.meta.url).pathname
export const BROWSER_BUNDLE = new URL('../dist/browser/djcloud-device.js', import.meta.url).pathname

/** Builds dist/browser unless it is newer than its sources and its config. */
export async function buildBrowser({ force = false } = {}) {
  if (!force) {
    const built = await stat(BROWSER_BUNDLE).then((s) => s.mtimeMs, () => 0)
    let sources = (await stat(BROWSER_CONFIG)).mtimeMs
    for (const dir of BROWSER_SOURCES) sources = Math.max(sources, await newestMtime(dir))
    if (built > sources) return
  }
  let vite
  try {
    vite = await import('vite')
  } catch {
    console.warn('djcloud build: vite is not installed; the browser bundle (dist/browser) was not rebuilt')
    return
  }
  await vite.build({ configFile: BROWSER_CONFIG, logLevel: 'warn' })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildCli()
  await buildUi()
  await buildBrowser()
}
