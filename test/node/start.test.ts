import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLibrary } from '../../src/library/index.ts'
import { initIdentity, loadIdentity } from '../../src/identity/index.ts'
import { DhtNode, manifestSalt } from '../../src/manifest/index.ts'
import { startNode } from '../../src/node/index.ts'
import { buildId3, encodeWav } from '../../src/demo/index.ts'
import { tempDir } from '../helpers/temp.ts'

test('a node starts on a library without opening, verifying or announcing any track torrent', async (t) => {
  const home = await tempDir(t)
  const id = await initIdentity(home)
  const music = join(home, 'music')
  await mkdir(music)
  const tracks = 300
  for (let i = 0; i < tracks; i++) {
    const pcm = new Int16Array(2000).map((_, j) => ((i * 7919 + j * 31) % 2000) - 1000)
    await writeFile(join(music, `t${i}.wav`), encodeWav(pcm, 8000, 1, buildId3({ title: `T${i}` })))
  }
  const lib = await openLibrary(home, { circleSecret: id.circleSecret })
  await lib.scan([music])
  await lib.close()

  const node = await startNode({ home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: false, dht: { port: 0 }, analyze: false })
  t.teardown(() => node.close())
  t.is(node.swarm.openTorrents, 0)
  const first = (await node.library.list())[0]!
  t.true(node.swarm.holds(first.sha256)) // yet every track is offered
  t.is(node.swarm.openTorrents, 0)
})

test('restarting the admin node with another tracker port replaces its tracker URL in the roster', async (t) => {
  const home = await tempDir(t)
  await initIdentity(home)
  for (let i = 0; i < 3; i++) {
    const node = await startNode({ home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }, dht: { port: 0 }, analyze: false })
    t.deepEqual(node.roster.trackers, [node.info.tracker])
    await node.close()
  }
})

test('re-putting republishes every item of ours (library, playlists, the roster on an admin) at its current seq', async (t) => {
  const home = await tempDir(t)
  await initIdentity(home, { name: 'solo' })
  const peerDht = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [] })
  t.teardown(() => peerDht.close())
  const node = await startNode({
    home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: false, dht: { port: 0 }, analyze: false, bootstrap: [`127.0.0.1:${peerDht.port}`],
  })
  t.teardown(() => node.close())
  const { publication } = await node.book.editPlaylist('Set', (own) => ({ ...own, clock: own.clock + 1 }), { create: true })
  await node.sync.publishPlaylist(publication)
  const again = await node.sync.reput()
  t.deepEqual(again.map((r) => r.item).sort(), ['library', 'playlist:Set', 'roster'])
  t.is(again.find((r) => r.item === 'playlist:Set')!.seq, publication.seq)
  // The other DHT node holds each pointer at that seq.
  const id = await loadIdentity(home)
  const got = await peerDht.getPointer({ publicKey: id.device.publicKey, salt: manifestSalt(id.circleSecret, 'playlist', 'Set') })
  t.is(got?.seq, publication.seq)
  t.is(got?.infoHash.toString('hex'), publication.blob.infoHash)
})
