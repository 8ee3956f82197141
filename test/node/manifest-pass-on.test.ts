// A Node device passes on the library roots of browser devices it took in
// (docs/manifests.md, "How manifests travel"): a page publishes by notice
// over its own links only, so without this another page, or a Node device
// that was away while the page edited, never learns of its edits. Run on a
// node's ManifestSync with real books and stores in temp homes, and a device
// channel that hands notices and blobs over in memory: what comes in from a
// browser goes out to every other link (never back to where it came from nor
// to the browser itself), a device that links is told the browsers' roots,
// a Node device's root is not passed on (it has its DHT item), and a replay
// or a revoked browser's root is neither taken in nor passed on.
import test, { type ExecutionContext } from 'ava'
import { EventEmitter } from 'node:events'
import { encodeCertificate, generateKeyPair, issueCertificate, revokeDevice, type Identity } from '../../src/identity/index.ts'
import { addTracks, ManifestBook, ManifestStore, type Publication } from '../../src/manifest/index.ts'
import { ManifestSync } from '../../src/node/manifest-sync.ts'
import type { DeviceLink, ManifestNotice, Swarm } from '../../src/swarm/index.ts'
import type { LocalLibrary } from '../../src/library/index.ts'
import { makeCircle, type TestCircle, type TestDevice } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { fakeTracks } from '../manifest/fake-tracks.ts'
import { until } from '../helpers/until.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** A browser device of the circle: a `browser` certificate, as pairing a page issues. */
function browserDevice(c: TestCircle, name: string): TestDevice {
  const key = generateKeyPair()
  const certificate = issueCertificate(c.owner.seed, { owner: c.owner.publicKey, device: key.publicKey, name, role: 'browser', created: Date.now() })
  return { key, certificate, credentials: { deviceSeed: key.seed, certificate: encodeCertificate(certificate) } }
}

/** A device's own book (a page's edits are signed the same way, with its browser certificate). */
async function bookOf(t: ExecutionContext, c: TestCircle, d: TestDevice): Promise<{ book: ManifestBook; id: Identity }> {
  const home = await tempDir(t)
  const id: Identity = { home, device: d.key, certificate: d.certificate, circleSecret: c.circleSecret, roster: c.roster }
  return { book: await ManifestBook.open({ store: await ManifestStore.open(home, c.circleSecret), identity: () => id }), id }
}

/** The device channel, in memory: links whose blobs are their device's book, and the notices sent on each. */
class Channel extends EventEmitter<{ link: [DeviceLink]; 'link-gone': [DeviceLink]; notice: [DeviceLink, ManifestNotice] }> {
  readonly links: DeviceLink[] = []
  readonly sent: Array<{ to: string; n: ManifestNotice }> = []
  private readonly books = new Map<DeviceLink, ManifestBook>()
  add(name: string, d: TestDevice, book: ManifestBook): DeviceLink {
    const link = { name, device: hex(d.key.publicKey) } as DeviceLink
    this.links.push(link)
    this.books.set(link, book)
    return link
  }
  online(): DeviceLink[] {
    return this.links
  }
  notify(n: ManifestNotice, links: DeviceLink[] = this.links): void {
    for (const l of links) this.sent.push({ to: l.name, n })
  }
  async fetchBlob(id: string, prefer: DeviceLink[] = []): Promise<{ data: Buffer; link: DeviceLink } | null> {
    for (const link of [...new Set([...prefer, ...this.links])]) {
      const data = await this.books.get(link)!.store.getBlob(id)
      if (data) return { data, link }
    }
    return null
  }
}

const notice = (d: TestDevice, p: Publication): ManifestNotice => ({ kind: 'library', signer: hex(d.key.publicKey), infoHash: p.blob.infoHash, seq: p.seq })
const ref = { sha256: 'a'.repeat(64), audio: 'b'.repeat(64), title: 'Alpha' }

test('a Node device passes a browser\'s root on to its other links and to devices that link, never a Node device\'s, a replay or a revoked browser\'s', async (t) => {
  const c = makeCircle(['home-pc', 'laptop', 'nas'])
  const [homePc, laptop, nas] = c.devices as [TestDevice, TestDevice, TestDevice]
  const pageA = browserDevice(c, 'phone-a')
  const pageB = browserDevice(c, 'phone-b')
  const node = await bookOf(t, c, homePc)
  const a = await bookOf(t, c, pageA)
  const b = await bookOf(t, c, pageB)
  const lap = await bookOf(t, c, laptop)
  const channel = new Channel()
  const sync = new ManifestSync({
    identity: () => node.id,
    book: node.book,
    swarm: { devices: channel, port: 0 } as unknown as Swarm,
    dht: null,
    library: {} as LocalLibrary,
    adoptRoster: async () => {},
  })
  t.teardown(() => sync.stop())
  const linkA = channel.add('phone-a', pageA, a.book)
  channel.add('phone-b', pageB, b.book)
  const linkLap = channel.add('laptop', laptop, lap.book)
  const sentTo = (who: string, signer: TestDevice) => channel.sent.filter((s) => s.to === who && s.n.signer === hex(signer.key.publicKey)).map((s) => s.n)

  // Page A edits: its root, by notice on its link, is taken in and goes to phone-b and laptop, not back to phone-a.
  await a.book.editPlaylist('warm-up', (own, merged) => addTracks(own, merged, a.book.selfId, [ref], 0), { create: true })
  const v1 = (await a.book.publishLibrary([]))!
  channel.emit('notice', linkA, notice(pageA, v1))
  await until(async () => (sentTo('laptop', pageA).length === 1 ? true : undefined), 10_000, 20)
  t.deepEqual(sentTo('phone-b', pageA), [notice(pageA, v1)])
  t.deepEqual(sentTo('laptop', pageA), [notice(pageA, v1)])
  t.deepEqual(sentTo('phone-a', pageA), [], 'never back to the page itself')
  t.is(node.book.playlist('warm-up')?.entries.length, 1, 'page A\'s edit is in the node\'s merge')

  // A device that links (the nas, away until now) is told page A's root; the node serves its blobs.
  const n = channel.sent.length
  const linkNas = channel.add('nas', nas, (await bookOf(t, c, nas)).book)
  channel.emit('link', linkNas)
  await until(async () => (channel.sent.length > n ? true : undefined), 10_000, 20)
  t.deepEqual(sentTo('nas', pageA), [notice(pageA, v1)])
  t.truthy(await node.book.store.getBlob(v1.blob.infoHash))
  // Page A linking again is told the node's root (a mark that the link was handled), not its own.
  await node.book.publishLibrary([])
  const k = channel.sent.length
  channel.emit('link', linkA)
  await until(async () => (channel.sent.length > k ? true : undefined), 10_000, 20)
  t.deepEqual(sentTo('phone-a', pageA), [])

  // A Node device's root is taken in and not passed on: its own DHT item and notices carry it.
  const lapRoot = (await lap.book.publishLibrary([]))!
  channel.emit('notice', linkLap, notice(laptop, lapRoot))
  await until(async () => (node.book.known('library', hex(laptop.key.publicKey)) === lapRoot.seq ? true : undefined), 10_000, 20)
  t.deepEqual(sentTo('phone-b', laptop), [])
  t.deepEqual(sentTo('nas', laptop), [])

  // The same root again, and an older one from another link: nothing taken, nothing passed on.
  await a.book.editPlaylist('warm-up', (own) => ({ ...own, clock: own.clock + 1 }))
  const v2 = (await a.book.publishLibrary([]))!
  channel.emit('notice', linkA, notice(pageA, v2))
  await until(async () => (sentTo('laptop', pageA).length === 2 ? true : undefined), 10_000, 20)
  const before = channel.sent.length
  channel.emit('notice', linkA, notice(pageA, v2))
  channel.emit('notice', linkLap, notice(pageA, v1))
  // A settled mark: a notice sent after them is handled after them.
  const lapRoot2 = (await lap.book.publishLibrary(fakeTracks(3)))!
  channel.emit('notice', linkLap, notice(laptop, lapRoot2))
  await until(async () => (node.book.known('library', hex(laptop.key.publicKey)) === lapRoot2.seq ? true : undefined), 10_000, 20)
  t.is(channel.sent.length, before, 'a replay is not passed on')
  t.is(node.book.known('library', hex(pageA.key.publicKey)), v2.seq)

  // Page A revoked: its root is dropped, not told to a device that links, and a newer one is refused.
  node.id.roster = revokeDevice(c.roster, pageA.key.publicKey)
  await node.book.dropRevoked()
  t.deepEqual(node.book.browserRoots(), [])
  const linkNas2 = channel.add('nas-again', nas, (await bookOf(t, c, nas)).book)
  const m = channel.sent.length
  channel.emit('link', linkNas2)
  await a.book.editPlaylist('warm-up', (own) => ({ ...own, clock: own.clock + 1 }))
  const v3 = (await a.book.publishLibrary([]))!
  channel.emit('notice', linkA, notice(pageA, v3))
  await until(async () => (node.book.refusals.some((r) => r.code === 'ERR_REVOKED') ? true : undefined), 10_000, 20)
  t.deepEqual(channel.sent.slice(m).filter((s) => s.n.signer === hex(pageA.key.publicKey)), [])
  // Page B still counts: its root goes on as page A's did.
  await b.book.editPlaylist('late', (own) => ({ ...own, clock: own.clock + 1 }), { create: true })
  const bRoot = (await b.book.publishLibrary([]))!
  channel.emit('notice', channel.links[1]!, notice(pageB, bRoot))
  await until(async () => (sentTo('nas-again', pageB).length === 1 ? true : undefined), 10_000, 20)
  t.deepEqual(sentTo('laptop', pageB), [notice(pageB, bRoot)])
})
