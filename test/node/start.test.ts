import test from 'ava'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLibrary } from '../../src/library/index.ts'
import { initIdentity, loadIdentity, saveRoster } from '../../src/identity/index.ts'
import { DhtNode, manifestSalt } from '../../src/manifest/index.ts'
import { startNode } from '../../src/node/index.ts'
import { buildId3, encodeWav } from '../../src/demo/index.ts'
import { freePort } from '../helpers/ports.ts'
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

test("an admin whose roster still lists its tracker's plain http:// URL advertises the https:// one in its place", async (t) => {
  const home = await tempDir(t)
  let id = await initIdentity(home)
  const port = await freePort()
  const plain = `http://127.0.0.1:${port}/announce`
  const other = 'https://192.0.2.9:7463/announce'
  const start = async () => {
    const n = await startNode({ home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: { port, host: '127.0.0.1', advertise: '127.0.0.1' }, dht: false, analyze: false })
    t.teardown(() => n.close())
    return n
  }

  // Upgraded in place: the roster and <home>/embedded-tracker both name the old URL.
  id = await saveRoster(id, { ...id.roster, seq: id.roster.seq + 1, trackers: [plain] })
  await writeFile(join(home, 'embedded-tracker'), plain + '\n')
  let node = await start()
  t.is(node.info.tracker, `https://127.0.0.1:${port}/announce`)
  t.deepEqual(node.roster.trackers, [node.info.tracker])
  await node.close()

  // Without the file (a restored home): the plain twin of its URL is still its own, and replaced; others stay.
  id = await loadIdentity(home)
  id = await saveRoster(id, { ...id.roster, seq: id.roster.seq + 1, trackers: [plain, other] })
  await rm(join(home, 'embedded-tracker'))
  node = await start()
  t.deepEqual(node.roster.trackers, [other, node.info.tracker])
  await node.close()
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
