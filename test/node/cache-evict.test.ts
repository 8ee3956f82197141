// A track both in the library and in the cache: evicting the cached copy
// leaves the library copy served, at once (not only after the next scan).
import test from 'ava'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { startNode, type Node, type NodeOptions } from '../../src/node/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { until } from '../helpers/until.ts'

const local = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: false, dht: false, analyze: false, uiDir: null } satisfies Partial<NodeOptions>

test('evicting the cached copy of a track that is also in the library: the library copy is offered again right away', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  const song = await writeTrack(join(music, 'song.wav'), { title: 'Song' }, 3, 20)
  const bytes = await readFile(song)
  const sha = createHash('sha256').update(bytes).digest('hex')
  await scanHome(home!, music)
  const h = await startNode({ home: home!, ...local })
  t.teardown(() => h.close())
  const peers = [{ host: '127.0.0.1', port: h.info.peerPort }]

  // The laptop fetches the track into its cache...
  let l: Node = await startNode({ home: laptop!, ...local, peers })
  await until(async () => (l.swarm.devices.online().length > 0 ? true : undefined), 20_000, 50)
  await l.swarm.fetch(sha)
  await l.close()
  // ...and later finds the same file in a folder of its own: at the next start the cached copy is what it offers.
  const mine = join(root, 'laptop-music')
  await mkdir(mine)
  await copyFile(song, join(mine, 'song.wav'))
  await scanHome(laptop!, mine)
  l = await startNode({ home: laptop!, ...local })
  t.teardown(() => l.close())
  t.true(l.swarm.cache.has(sha))
  t.true(l.swarm.holds(sha))

  const evicted = new Promise<void>((resolve) => l.swarm.once('evicted', () => resolve()))
  await l.swarm.cache.setBudget(1000)
  await evicted
  t.false(l.swarm.cache.has(sha))
  // The library copy is served: held, and its torrent reads the file from the library.
  await until(async () => (l.swarm.holds(sha) ? true : undefined), 5_000, 10)
  const torrent = await l.swarm.open(sha)
  t.true(torrent.complete)
  t.true((await torrent.readAt(0, bytes.length)).equals(bytes))
})
