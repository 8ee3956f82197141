// The /rest routes over stand-in parts (no swarm): a stream of a track held
// elsewhere never waits for the catalog and goes out as its audio type, and
// getArtists / getIndexes are made once per catalog and stars.
import test, { type ExecutionContext } from 'ava'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TrackRecord } from '../../src/library/index.ts'
import type { UnionEntry } from '../../src/manifest/index.ts'
import { streamRoute, type TrackSource } from '../../src/player/index.ts'
import { addApp, MemoryPlayLog, type AppCredential } from '../../src/subsonic/index.ts'
import { Annotations } from '../../src/subsonic/annotations.ts'
import { AppRegistry } from '../../src/subsonic/apps.ts'
import { CatalogCache } from '../../src/subsonic/catalog.ts'
import type { SubsonicDeps } from '../../src/subsonic/context.ts'
import { subsonicRoutes } from '../../src/subsonic/routes.ts'
import { tempDir } from '../helpers/temp.ts'

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex')

function record(bytes: Buffer, format: TrackRecord['format'], title: string, artist: string): TrackRecord {
  return {
    sha256: sha(bytes), audioHash: sha(`audio ${title}`), size: bytes.length, format, pieceLength: 262144,
    tags: { hasCover: false, title, artist, album: `${title} album`, duration: 60 },
    paths: [], missing: false, added: 1, updated: 1,
  }
}

/** Tracks only another own device holds: the source's handles carry no Content-Type, as the swarm's do not. */
function remote(files: Map<string, Buffer>): TrackSource {
  return {
    async resolve(id) {
      const bytes = files.get(id)
      if (!bytes) return null
      return {
        size: bytes.length,
        async *read(start, end) {
          yield bytes.subarray(start, end + 1)
        },
      }
    },
  }
}

interface Rig {
  app: AppCredential
  annotations: Annotations
  get: (name: string, params?: Record<string, string>) => Promise<Response>
}

async function rig(t: ExecutionContext, catalog: SubsonicDeps['catalog'], union: Map<string, UnionEntry>, files: Map<string, Buffer>): Promise<Rig> {
  const home = await tempDir(t)
  const app = await addApp(home, 'phone')
  const annotations = new Annotations(home)
  const deps: SubsonicDeps = {
    catalog,
    union: async () => union,
    annotations,
    plays: new MemoryPlayLog(),
    book: {} as SubsonicDeps['book'],
    publishPlaylist: async () => undefined,
    tracks: remote(files),
    stream: (tracks) => streamRoute({ tracks }),
    renditions: null,
    covers: new Map(),
    ffmpeg: null,
  }
  const [route] = subsonicRoutes({ deps, apps: new AppRegistry(home) })
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const ac = new AbortController()
    res.once('close', () => ac.abort())
    route!.handle({ req, res, params: { name: url.pathname.split('/').pop()! }, query: url.searchParams, signal: ac.signal }).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rest/`
  const get = (name: string, params: Record<string, string> = {}) =>
    fetch(base + name + '?' + new URLSearchParams({ apiKey: app.apiKey, v: '1.16.1', c: 'test', ...params }))
  return { app, annotations, get }
}

const holders = [{ device: sha('home-pc'), name: 'home-pc', online: true, self: false }]

test('a raw stream of a track held elsewhere goes out as its audio type and never waits for the catalog', async (t) => {
  const mp3 = Buffer.from('ID3 not really an mp3, but bytes all the same')
  const flac = Buffer.from('fLaC and some more bytes')
  const tracks = [record(mp3, 'mp3', 'One', 'A'), record(flac, 'flac', 'Two', 'B')]
  const union = new Map(tracks.map((r) => [r.sha256, { track: r, holders }]))
  let asked = 0
  // A stream needs the track's SHA-256, format and holders, never the catalog (rebuilt after a union change).
  const building = { get: () => (asked++, Promise.reject(new Error('a stream asked for the catalog'))) } as unknown as CatalogCache
  const r = await rig(t, building, union, new Map([[sha(mp3), mp3], [sha(flac), flac]]))

  const one = await r.get('stream', { id: sha(mp3) })
  t.is(one.status, 200)
  t.is(one.headers.get('content-type'), 'audio/mpeg')
  t.deepEqual(Buffer.from(await one.arrayBuffer()), mp3)
  const ranged = await r.get('stream', { id: sha(flac), format: 'raw' })
  t.is(ranged.headers.get('content-type'), 'audio/flac')
  t.deepEqual(Buffer.from(await ranged.arrayBuffer()), flac)
  const dl = await r.get('download', { id: sha(flac) })
  t.is(dl.headers.get('content-type'), 'audio/flac')
  t.deepEqual(Buffer.from(await dl.arrayBuffer()), flac)
  t.is(asked, 0, 'the catalog was never asked for')

  // A track no device holds, or an id that is not one: not found, and no bytes.
  union.set(sha('gone'), { track: record(Buffer.from('gone'), 'mp3', 'Gone', 'C'), holders: [] })
  for (const id of [sha('gone'), sha('never'), 'x'.repeat(64)]) {
    const res = await r.get('stream', { id, f: 'json' })
    t.is(res.headers.get('content-type'), 'application/json; charset=utf-8')
    t.like(((await res.json()) as { 'subsonic-response': { error: { code: number } } })['subsonic-response'], { status: 'failed', error: { code: 70 } })
  }
})

test('getArtists and getIndexes are made once per catalog and stars: the same text until a star or the catalog changes', async (t) => {
  const tracks = [record(Buffer.from('a'), 'mp3', 'One', 'Alpha'), record(Buffer.from('b'), 'mp3', 'Two', 'Beta')]
  const union = new Map(tracks.map((r) => [r.sha256, { track: r, holders }]))
  const cache = new CatalogCache(async () => union)
  const r = await rig(t, cache, union, new Map())
  const artists = async (name = 'getArtists', f = 'json') => (await r.get(name, { f })).text()

  const first = await artists()
  t.regex(first, /"name":"Alpha"/)
  // Changed under the cache's feet (the catalog object is the same): the answer made before is sent.
  const catalog = await cache.get()
  catalog.artistList[0]!.name = 'Changed'
  t.is(await artists(), first, 'the same text, not made again')
  t.regex(await artists('getIndexes'), /"name":"Changed"/, 'getIndexes is its own answer')
  t.regex(await artists('getArtists', 'xml'), /name="Changed"/, 'and so is another format')

  // A star makes it again.
  await r.annotations.star([catalog.artistList[1]!.id], true)
  const starred = await artists()
  t.regex(starred, /"name":"Changed"/)
  t.regex(starred, /"starred":"/)
})
