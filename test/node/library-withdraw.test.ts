// A library file removed while the node runs: the rescan that finds it gone
// also stops the swarm offering it, so this device no longer counts it as
// held (a pull here then fetches it instead of failing its check) and no
// longer serves it. Found by the fault soak: a laptop's final pull failed
// "verification failed (the file is not on this device)" three times.
import test from 'ava'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { startNode, type NodeOptions } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { until } from '../helpers/until.ts'

const local = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: false, dht: false, analyze: false, uiDir: null } satisfies Partial<NodeOptions>

test('a rescan that finds a library file gone stops offering it: not held, not served; a copy elsewhere is fetched instead', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  const other = join(root, 'other')
  await mkdir(music)
  await mkdir(other)
  const song = await writeTrack(join(music, 'song.wav'), { title: 'Song' }, 3, 20)
  const bytes = await readFile(song)
  const sha = createHash('sha256').update(bytes).digest('hex')
  await writeTrack(join(other, 'song.wav'), { title: 'Song' }, 3, 20) // the same bytes on the home PC
  await scanHome(laptop!, music)
  await scanHome(home!, other)
  const h = await startNode({ home: home!, ...local })
  t.teardown(() => h.close())
  const l = await startNode({ home: laptop!, ...local, peers: [{ host: '127.0.0.1', port: h.info.peerPort }] })
  t.teardown(() => l.close())
  t.true(l.swarm.holds(sha))

  await rm(song)
  const token = await readApiToken(laptop!)
  const res = await fetch(`${l.info.api}/api/scan`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
  t.is(res.status, 200)
  t.false(l.swarm.holds(sha), 'the laptop still offers a file it no longer has')

  // Held elsewhere: the laptop fetches it into its cache rather than taking it for present.
  await until(async () => (l.swarm.devices.online().length > 0 ? true : undefined), 20_000, 50)
  const got = await l.swarm.fetch(sha)
  t.true((await readFile(got.path)).equals(bytes))
  t.deepEqual(Object.keys(got.sources), ['home-pc'])
})
