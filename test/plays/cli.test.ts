// `djcloud plays` and `djcloud stats` against a node on the home: a Traktor
// history imported twice adds its plays once; the ListenBrainz export's
// shape; removal of a time range; the local stats, their crash count.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeDjFile, traktorNml, type DjLibrary } from '../../src/djformats/index.ts'
import { startNode, type Node } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { cli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

const common = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, tracker: false, analyze: false, uiDir: null } as const

async function call<T>(n: Node, method: string, path: string, body?: unknown): Promise<T> {
  const token = (await readApiToken(n.home))!
  const r = await fetch(n.info.api + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as T
}

test('Traktor history imports once; export is ListenBrainz listens; rm removes a range; stats count', async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['desk'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'a.wav'), { title: 'Alpha', artist: 'NATO', album: 'Letters' }, 1, 3)
  await writeTrack(join(music, 'b.wav'), { title: 'Bravo', artist: 'NATO' }, 2, 3)
  let node = await startNode({ ...common, home: home! })
  t.teardown(() => node.close())
  await call(node, 'POST', '/api/scan', { roots: [music] })
  const { tracks } = await call<{ tracks: Array<{ sha256: string; size: number; tags: { title?: string } }> }>(node, 'GET', '/api/library')
  const sha = (title: string) => tracks.find((x) => x.tags.title === title)!.sha256

  // A Traktor collection naming both files (Traktor keeps Mac/Windows paths: they match by name and size), with a history of three plays (one undated) and a track not in the library.
  const lib: DjLibrary = {
    format: 'traktor', playlists: [], warnings: [], warningsDropped: 0,
    tracks: [
      { id: '1', location: join(music, 'a.wav'), size: tracks.find((x) => x.tags.title === 'Alpha')!.size, title: 'Alpha', artist: 'NATO', cues: [], grid: [] },
      { id: '2', location: join(music, 'b.wav'), size: tracks.find((x) => x.tags.title === 'Bravo')!.size, title: 'Bravo', artist: 'NATO', cues: [], grid: [] },
      { id: '3', location: join(root, 'elsewhere', 'c.wav'), title: 'Charlie', cues: [], grid: [] },
    ],
    history: [
      { ref: { trackId: '1' }, session: ['HISTORY', 'history_2026y12m05d'], playedAt: '2026-12-05T22:00:00', durationS: 241 },
      { ref: { trackId: '2' }, session: ['HISTORY', 'history_2026y12m05d'], playedAt: '2026-12-05T22:04:00', durationS: 180 },
      { ref: { trackId: '3' }, session: ['HISTORY', 'history_2026y12m05d'], playedAt: '2026-12-05T22:07:00' },
      { ref: { trackId: '1' }, session: ['HISTORY', 'old'] },
    ],
  }
  const nml = join(root, 'collection.nml')
  await writeDjFile(nml, traktorNml(lib))

  const first = JSON.parse(await cli(home!, ['plays', 'import', 'traktor', nml, '--json'])) as Record<string, number>
  t.like(first, { added: 2, already: 0, unmatched: 1, undated: 1 })
  const again = JSON.parse(await cli(home!, ['plays', 'import', 'traktor', nml, '--json'])) as Record<string, number>
  t.like(again, { added: 0, already: 2 })
  const ls = JSON.parse(await cli(home!, ['plays', 'ls', '--json'])) as { plays: Array<{ sha256: string; at: number; source: string }> }
  t.deepEqual(ls.plays.map((p) => [p.sha256, p.at, p.source]), [
    [sha('Alpha'), new Date(2026, 11, 5, 22, 0, 0).getTime(), 'traktor'],
    [sha('Bravo'), new Date(2026, 11, 5, 22, 4, 0).getTime(), 'traktor'],
  ])

  // ListenBrainz: one listen per line.
  const lines = (await cli(home!, ['plays', 'export', '--format', 'listenbrainz'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>)
  t.deepEqual(lines[0], {
    listened_at: Math.floor(new Date(2026, 11, 5, 22, 0, 0).getTime() / 1000),
    track_metadata: {
      artist_name: 'NATO', track_name: 'Alpha', release_name: 'Letters',
      additional_info: { duration: 3, duration_ms: 3000, media_player: 'traktor', submission_client: 'djcloud', djcloud_sha256: sha('Alpha') },
    },
  })
  t.is(lines.length, 2)
  t.deepEqual(JSON.parse(await cli(home!, ['plays', 'export', '--json'])), { format: 'listenbrainz', listens: lines })
  t.regex(await cli(home!, ['plays', '--help']), /import traktor FILE\.nml/)
  t.false('release_name' in lines[1]!.track_metadata)

  // rm: the second play's minute.
  const rm = JSON.parse(await cli(home!, ['plays', 'rm', '--from', '2026-12-05T22:03', '--to', '2026-12-05T22:05', '--json'])) as { removed: number }
  t.is(rm.removed, 1)
  t.deepEqual((JSON.parse(await cli(home!, ['plays', 'ls', '--json'])) as typeof ls).plays.map((p) => p.sha256), [sha('Alpha')])
  // A removed play imported again stays removed (the tombstone covers its time).
  t.like(JSON.parse(await cli(home!, ['plays', 'import', 'traktor', nml, '--json'])), { added: 0 })

  // Stats: through the node, then from the files once it stopped cleanly; then a run that did not stop is a crash.
  const live = JSON.parse(await cli(home!, ['stats', '--json'])) as { stats: { tracks: number }; usage: Record<string, any> }
  t.is(live.stats.tracks, 2)
  t.like(live.usage, { runs: 1, crashes: 0, plays: 1, playedTracks: 1 })
  t.true(live.usage.samples.length >= 1)
  await node.close()
  const off = JSON.parse(await cli(home!, ['stats', '--json'])) as typeof live
  t.like(off.usage, { runs: 1, crashes: 0, plays: 1 })
  t.true(off.usage.usedMs > 0)
  // A crash: the run's mark is left behind as a kill -9 leaves it (the node is started, and its mark copied back after it stopped).
  const { readFile, writeFile } = await import('node:fs/promises')
  node = await startNode({ ...common, home: home!, onWarning: () => {} })
  const running = await readFile(join(home!, 'usage.json'), 'utf8')
  await node.close()
  await writeFile(join(home!, 'usage.json'), running)
  node = await startNode({ ...common, home: home! })
  const after = JSON.parse(await cli(home!, ['stats', '--json'])) as typeof live
  t.like(after.usage, { runs: 3, crashes: 1 })
})
