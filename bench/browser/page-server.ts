// The benchmark's page on 127.0.0.1 (a secure context: OPFS and WebCrypto
// work): stock webtorrent's browser build, the djcloud browser device
// bundle (dist/browser, rebuilt when older than its sources) and the page's
// own code (page-entry.ts with src/rtc, bundled here by esbuild).
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { REPO } from '../common.ts'

export async function servePage(): Promise<{ url: string; close(): Promise<void> }> {
  const builder = (await import('../../bin/build.js' as string)) as { buildBrowser(): Promise<void>; BROWSER_BUNDLE: string }
  await builder.buildBrowser()
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./page-entry.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'warning',
  })
  const files: Record<string, Buffer> = {
    '/djcloud-device.js': await readFile(builder.BROWSER_BUNDLE),
    '/webtorrent.min.js': await readFile(`${REPO}node_modules/webtorrent/dist/webtorrent.min.js`),
    '/bench-page.js': Buffer.from(out.outputFiles[0]!.contents),
  }
  const html =
    '<!doctype html><title>djcloud bench</title><script type=module>' +
    "import WebTorrent from '/webtorrent.min.js'; import * as dj from '/djcloud-device.js';" +
    "window.WebTorrent = WebTorrent; window.dj = dj; await import('/bench-page.js'); window.benchReady = true" +
    '</script>'
  const server: Server = createServer((req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(html)
    const body = files[req.url ?? '']
    if (body) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(body)
    res.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
