// The swarm's two tables keep their invariants themselves: what is offered
// (one offer per track, a library offer never dropped as a cached one) and
// what is opening or open (a failed open forgotten, a removal from both at
// once, how long an open torrent has had no peer). Real torrents on real files.
import test from 'ava'
import { once } from 'node:events'
import { join } from 'node:path'
import { OfferTable } from '../../src/swarm/offer-table.ts'
import { TorrentTable } from '../../src/swarm/torrent-table.ts'
import { CompleteFile, Torrent, type TorrentMeta } from '../../src/swarm/index.ts'
import { makeCircle } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { randomTrackFile, startLeecher } from '../helpers/swarm.ts'
import { deferred } from '../helpers/deferred.ts'

const load = (meta: TorrentMeta, path: string) => async () => ({ meta, path })

test('offers: one per track, replaced under a new infohash, a cached one dropped and a library one kept', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const a = await randomTrackFile(dir, 70_000, c.circleSecret)
  const b = await randomTrackFile(dir, 90_000, c.circleSecret)
  const offers = new OfferTable()
  const ihA = a.meta.infoHash.toString('hex')
  const ihB = b.meta.infoHash.toString('hex')
  offers.set(ihA, { sha256: a.meta.sha256, load: load(a.meta, a.path) })
  offers.set(ihB, { sha256: b.meta.sha256, load: load(b.meta, b.path), cached: true })
  t.true(offers.holds(a.meta.sha256))
  t.is(offers.infoHashOf(b.meta.sha256), ihB)
  t.is(offers.offerOf(a.meta.sha256)?.sha256, a.meta.sha256)
  t.false(offers.dropCached(a.meta.sha256), 'a library track is not dropped as a cached copy')
  t.true(offers.holds(a.meta.sha256))
  offers.set(ihB, { sha256: b.meta.sha256, load: load(b.meta, b.path), cached: true })
  t.false(offers.dropLibrary(b.meta.sha256), 'a cached copy is not dropped as a library track')
  t.true(offers.dropCached(b.meta.sha256))
  t.false(offers.holds(b.meta.sha256))
  t.false(offers.has(ihB))
  t.true(offers.dropLibrary(a.meta.sha256), 'a library track whose file is gone')
  t.false(offers.holds(a.meta.sha256))
  t.false(offers.has(ihA))
  t.false(offers.dropLibrary(a.meta.sha256))
  offers.set(ihA, { sha256: a.meta.sha256, load: load(a.meta, a.path) })
  // The same track offered under another infohash: the old offer goes, so both directions agree.
  const other = 'f'.repeat(40)
  offers.set(other, { sha256: a.meta.sha256, load: load(a.meta, a.path) })
  t.is(offers.infoHashOf(a.meta.sha256), other)
  t.false(offers.has(ihA))
  // Another track offered under an infohash in use: the first track is no longer held.
  offers.set(other, { sha256: b.meta.sha256, load: load(b.meta, b.path) })
  t.false(offers.holds(a.meta.sha256))
  t.is(offers.infoHashOf(b.meta.sha256), other)
})

test('torrents: a failed open is forgotten (not one that took its place), a removal takes both entries, lonely time follows peers', async (t) => {
  const c = makeCircle(['home', 'phone'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 300_000, c.circleSecret)
  const ih = meta.infoHash.toString('hex')
  const table = new TorrentTable()

  const failing = deferred<Torrent>()
  void table.add(ih, failing.promise).catch(() => {})
  t.true(table.has(ih))
  failing.reject(new Error('no room'))
  await failing.promise.catch(() => {})
  await Promise.resolve()
  t.false(table.has(ih), 'a failed open is forgotten')

  // A failure of an open another has replaced leaves the new one alone.
  const stale = deferred<Torrent>()
  void table.add(ih, stale.promise).catch(() => {})
  const seeder = new Torrent(meta, await CompleteFile.open(path, meta))
  t.teardown(() => seeder.close())
  const current = table.add(ih, Promise.resolve(table.opened(seeder)))
  stale.reject(new Error('late failure'))
  await stale.promise.catch(() => {})
  await Promise.resolve()
  t.is(table.get(ih), current)
  t.true(table.isOpen(ih))
  t.is(table.size, 1)
  t.deepEqual(table.openOf(meta.sha256), [seeder])
  t.deepEqual(await table.all(), [seeder])

  // Lonely from the start, not while a peer is on; lonely again when it leaves.
  t.true(table.lonelyFor(seeder)! >= 0)
  const { createLinkServer } = await import('../../src/link/index.ts')
  const { authenticate } = await import('../../src/swarm/index.ts')
  const server = await createLinkServer((sock) => {
    sock.on('error', () => {})
    authenticate(sock, { credentials: c.devices[0]!.credentials, roster: () => c.roster, accept: () => ({}) }).then((s) => seeder.addPeer(s), () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, join(dir, 'cache'), [(server.address() as { port: number }).port])
  await once(seeder, 'peer')
  t.is(table.lonelyFor(seeder), undefined, 'not lonely with a peer')
  await once(leecher, 'done')
  await leecher.close()
  if (seeder.peerCount > 0) await once(seeder, 'peer-gone')
  t.true(table.lonelyFor(seeder)! >= 0, 'lonely again once the peer left')

  const twin = new Torrent(meta, await CompleteFile.open(path, meta))
  t.teardown(() => twin.close())
  t.false(table.remove(twin), 'another object under the same infohash is not removed')
  t.true(table.remove(seeder))
  t.false(table.has(ih))
  t.false(table.isOpen(ih))
  t.deepEqual(table.openOf(meta.sha256), [])
})
