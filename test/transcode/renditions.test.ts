// Renditions over HTTP with Debian's ffmpeg and a TrackSource-like handle:
// a clean transcode is cached and served again as a file; a source that
// fails mid-track cuts the stream and leaves nothing in the cache.
import test from 'ava'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TrackUnavailableError, type TrackHandle } from '../../src/player/index.ts'
import { FfmpegEncoder, RenditionCache, Renditions } from '../../src/transcode/index.ts'
import { fixtureDir, makeMp3 } from '../helpers/audio-fixtures.ts'
import { tempDir } from '../helpers/temp.ts'

function handleOf(bytes: Buffer, failAt?: number): TrackHandle {
  return {
    size: bytes.length,
    async *read(start, end) {
      for (let at = start; at <= end; at += 16 * 1024) {
        if (failAt !== undefined && at >= failAt) throw new TrackUnavailableError('the holder went away')
        yield bytes.subarray(at, Math.min(end + 1, at + 16 * 1024))
        await new Promise((r) => setImmediate(r))
      }
    },
  }
}

async function serveWith(t: import('ava').ExecutionContext, renditions: Renditions, handle: () => TrackHandle): Promise<string> {
  const server = createServer((req, res) => {
    const ac = new AbortController()
    res.once('close', () => !res.writableFinished && ac.abort())
    renditions.serve(req, res, ac.signal, 'a'.repeat(64), async () => handle(), { format: 'mp3', maxKbps: 64 }).catch(() => {
      if (!res.headersSent) res.writeHead(503).end()
      else res.destroy()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

test('a clean rendition is kept and served again as a file; a source failing mid-track keeps nothing and cuts the stream', async (t) => {
  const fx = await fixtureDir(t)
  const bytes = await readFile(await makeMp3(fx, { name: 'x.mp3', seconds: 20 }))
  const dir = join(await tempDir(t), 'renditions')
  const cache = new RenditionCache(dir)
  const renditions = new Renditions({ encoder: new FfmpegEncoder(), cache })

  const failing = await serveWith(t, renditions, () => handleOf(bytes, Math.floor(bytes.length / 2)))
  const cut = await fetch(failing).then((r) => r.arrayBuffer()).then(() => 'complete', () => 'cut')
  t.is(cut, 'cut', 'the client sees a cut stream, not a short "complete" one')
  t.is(await cache.used(), 0, 'nothing kept from a failed source')

  const clean = await serveWith(t, renditions, () => handleOf(bytes))
  const first = Buffer.from(await (await fetch(clean)).arrayBuffer())
  t.true(first.length > 0)
  t.is(await cache.used(), first.length, 'kept whole')
  const again = await fetch(clean)
  t.is(again.headers.get('content-length'), String(first.length))
  t.deepEqual(Buffer.from(await again.arrayBuffer()), first)
})
