// Transcoded streams for thin links, on a real node with Debian's ffmpeg:
// a track held only on another own device comes out as MP3 or Opus within
// 1% of the source's duration and within the bitrate cap (ffprobe), seeks
// land within 0.1 s, a finished rendition is served again from the cache
// (same bytes, Range), and a node without an encoder says so.
import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readdir } from 'node:fs/promises'
import { jpeg, probe, subsonicPair } from './pair.ts'

type Body = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function save(dir: string, name: string, r: Response): Promise<{ path: string; bytes: Buffer }> {
  const bytes = Buffer.from(await r.arrayBuffer())
  const path = join(dir, name)
  await writeFile(path, bytes)
  return { path, bytes }
}

test('stream?format=mp3|opus&maxBitRate: duration within 1% of the source, bitrate within the cap; the rendition is cached', async (t) => {
  const p = await subsonicPair(t)
  const night = (await p.home.library.list()).find((x) => x.tags.title === 'Night Drive')!
  const source = await probe(night.paths[0]!)

  const mp3 = await p.rest('stream', { id: night.sha256, format: 'mp3', maxBitRate: '96' })
  t.is(mp3.status, 200)
  t.is(mp3.headers.get('content-type'), 'audio/mpeg')
  const first = await save(p.root, 'a.mp3', mp3)
  const m = await probe(first.path)
  t.is(m.codec, 'mp3')
  t.true(Math.abs(m.duration - source.duration) <= source.duration * 0.01, `mp3 ${m.duration} s vs ${source.duration} s`)
  t.true(m.bitRate <= 96_000 * 1.01, `mp3 at ${m.bitRate} bit/s, cap 96 kbps`)

  const opus = await p.client('apiKey').stream({ id: night.sha256, format: 'opus' as never, maxBitRate: 64 })
  t.is(opus.status, 200)
  t.is(opus.headers.get('content-type'), 'audio/ogg; codecs=opus')
  const o = await probe((await save(p.root, 'a.opus', opus)).path)
  t.is(o.codec, 'opus')
  t.true(Math.abs(o.duration - source.duration) <= source.duration * 0.01, `opus ${o.duration} s vs ${source.duration} s`)
  t.true(o.bitRate <= 64_000 * 1.01, `opus at ${o.bitRate} bit/s, cap 64 kbps`)

  // Served again from the rendition cache: the same bytes, with a length and Range.
  const renditions = await readdir(join(p.laptop.home, 'renditions'))
  t.is(renditions.filter((f) => f.startsWith(`${night.sha256}.mp3.96.`)).length, 1, 'kept under (sha256, codec, bitrate, encoder)')
  const again = await p.rest('stream', { id: night.sha256, format: 'mp3', maxBitRate: '96' })
  t.is(again.headers.get('content-length'), String(first.bytes.length))
  t.deepEqual(Buffer.from(await again.arrayBuffer()), first.bytes)
  const part = await p.rest('stream', { id: night.sha256, format: 'mp3', maxBitRate: '96' }, { headers: { range: 'bytes=100-199' } })
  t.is(part.status, 206)
  t.deepEqual(Buffer.from(await part.arrayBuffer()), first.bytes.subarray(100, 200))

  // No format but a cap under the source's bitrate (192 kbps): the MP3 rendition.
  const capped = await p.rest('stream', { id: night.sha256, maxBitRate: '128' })
  t.is(capped.headers.get('content-type'), 'audio/mpeg')
  const c = await probe((await save(p.root, 'c.mp3', capped)).path)
  t.true(c.bitRate <= 128_000 * 1.01)
  // A cap above it: the original bytes; so is MP3 asked of an MP3 within the cap.
  const plain = await p.rest('stream', { id: night.sha256, maxBitRate: '320' })
  t.is(Buffer.from(await plain.arrayBuffer()).length, night.size)
  for (const q of [{ format: 'mp3' }, { format: 'mp3', maxBitRate: '192' }] as Array<Record<string, string>>) {
    const same = await p.rest('stream', { id: night.sha256, ...q })
    t.is(same.headers.get('etag'), `"${night.sha256}"`, JSON.stringify(q))
    t.is(Buffer.from(await same.arrayBuffer()).length, night.size)
  }
})

test('timeOffset lands within 0.1 s; /stream/<sha256>?format= gives the web UI the same', async (t) => {
  const p = await subsonicPair(t)
  const night = (await p.home.library.list()).find((x) => x.tags.title === 'Night Drive')!
  const whole = await probe((await save(p.root, 'w.opus', await p.rest('stream', { id: night.sha256, format: 'opus' }))).path)
  const offset = 12.5
  const sought = await probe((await save(p.root, 's.opus', await p.rest('stream', { id: night.sha256, format: 'opus', timeOffset: String(offset) }))).path)
  t.true(Math.abs(whole.duration - offset - sought.duration) <= 0.1, `${sought.duration} s left after seeking ${offset} s into ${whole.duration} s`)

  const ui = await p.api(p.laptop, `/stream/${night.sha256}?format=mp3&maxBitRate=64&timeOffset=5`)
  t.is(ui.status, 200)
  t.is(ui.headers.get('content-type'), 'audio/mpeg')
  const u = await probe((await save(p.root, 'u.mp3', ui)).path)
  t.true(Math.abs(u.duration - (whole.duration - 5)) <= 0.15, `${u.duration} s`)
  t.true(u.bitRate <= 64_000 * 1.01)
  t.is((await p.api(p.laptop, `/stream/${night.sha256}?format=wma`)).status, 400)
  t.is((await p.api(p.laptop, `/stream/${night.sha256}?format=mp3&timeOffset=-3`)).status, 400)
  const raw = await p.api(p.laptop, `/stream/${night.sha256}?format=raw`)
  t.is(Buffer.from(await raw.arrayBuffer()).length, night.size)
})

test('a node without an encoder answers transcodes with a clear error; raw still streams', async (t) => {
  const p = await subsonicPair(t, { transcode: { ffmpegPath: '/nonexistent/ffmpeg' } })
  const own = (await p.laptop.library.list())[0]!
  const r = (await (await p.rest('stream', { id: own.sha256, format: 'opus', f: 'json' })).json()) as Body
  t.like(r['subsonic-response'], { status: 'failed', error: { code: 0 } })
  t.regex(r['subsonic-response'].error.message, /no audio encoder/)
  const ui = await p.api(p.laptop, `/stream/${own.sha256}?format=mp3`)
  t.is(ui.status, 501)
  t.like(await ui.json(), { error: { code: 'ERR_NO_ENCODER' } })
  const raw = await p.rest('stream', { id: own.sha256, format: 'raw' })
  t.is(Buffer.from(await raw.arrayBuffer()).length, own.size)
  // Cover art goes out at its own size when nothing can resize it: no error.
  const night = (await p.home.library.list()).find((x) => x.tags.title === 'Night Drive')!
  const cover = await p.rest('getCoverArt', { id: night.sha256, size: '16' })
  t.is(cover.headers.get('content-type'), 'image/jpeg')
  t.deepEqual(Buffer.from(await cover.arrayBuffer()), await jpeg(p.root, 64), 'the embedded 64x64 picture as it is')
})
