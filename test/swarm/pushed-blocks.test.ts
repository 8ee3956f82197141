// Pushed first blocks (docs/swarm.md): a reader's open asks the holders, over
// the device links already up, to push their share of the blocks where it
// starts, so those bytes do not wait for the track's own wires. The holders
// here listen on 127.0.0.2 but dial from 127.0.0.1, so the laptop's dials to
// them for the track's torrent fail: what it reads came pushed, or not at all.
import test, { type ExecutionContext } from 'ava'
import { join } from 'node:path'
import { makeCircle } from '../helpers/circle.ts'
import { handLinkedDevice, slowHolder, startSwarm } from '../helpers/circle-swarm.ts'
import { randomTrackFile, startLeecher, startSeeder } from '../helpers/swarm.ts'
import { dialLink } from '../../src/link/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { authenticate, clearlyNearer, CompleteFile, PartialFile, Torrent, BLOCK, PUSH_BYTES, LOOKUP_EXTENSION, encodeInfoDict, type Swarm } from '../../src/swarm/index.ts'
import { asDict, decode, encode } from '../../src/codec/index.ts'
import { deferred } from '../helpers/deferred.ts'

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())])

/** `device` dials `reader`, and the reader has taken its hello. */
async function linked(device: Swarm, reader: Swarm): Promise<void> {
  const before = reader.devices.online().length
  await device.connectDevice('127.0.0.1', reader.port)
  await until(async () => (reader.devices.online().length > before ? true : undefined))
}

/**
 * Until the reader sees its links at one distance (nearest first asks only the
 * nearest holders to push): both on loopback, but a sample taken while the
 * machine is busy can say otherwise until the pings (every 100 ms here) correct it.
 */
async function sameDistance(reader: Swarm, n: number): Promise<void> {
  await until(async () => {
    const ms = reader.devices.online().map((l) => l.rttMs)
    if (ms.length < n || ms.some((r) => r === undefined)) return undefined
    return ms.every((a) => ms.every((b) => !clearlyNearer(a, b))) ? true : undefined
  }, 30_000, 20)
}

/** Circle home, studio, laptop: home holds a random track of `size` bytes and is linked to the laptop. */
async function homeHoldsForLaptop(t: ExecutionContext, size: number) {
  const c = makeCircle(['home', 'studio', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, size, c.circleSecret)
  const laptop = await startSwarm(t, c, 2, dir)
  const home = await startSwarm(t, c, 0, dir)
  home.offer(meta, path)
  await linked(home, laptop)
  return { c, dir, path, bytes, meta, laptop }
}

for (const [what, from] of [['its start', 0], ['a seek', 600_000]] as const) {
  test(`a reader gets the piece under ${what} pushed by both holders over the device links, with no wire of the track`, async (t) => {
    const c = makeCircle(['home', 'studio', 'laptop'])
    const dir = await tempDir(t)
    const { path, bytes, meta } = await randomTrackFile(dir, 1_000_000, c.circleSecret)
    const laptop = await startSwarm(t, c, 2, dir, { rttPingMs: 100 })
    for (const i of [0, 1]) {
      const holder = await startSwarm(t, c, i, dir, { host: '127.0.0.2' })
      holder.offer(meta, path)
      await linked(holder, laptop)
    }
    await sameDistance(laptop, 2)
    const torrent = await laptop.open(meta.sha256, { from })
    const piece = Math.floor(from / meta.pieceLength)
    await within(torrent.waitFor(from, (piece + 1) * meta.pieceLength - 1), 10_000, 'the pushed piece')
    t.true((await torrent.readAt(from, 1000)).equals(bytes.subarray(from, from + 1000)))
    t.is(torrent.peerCount, 0, 'no wire of the track came up: the bytes were pushed')
    // The whole push: PUSH_BYTES from that piece on, half from each holder.
    const pushed = PUSH_BYTES / meta.pieceLength
    await within(torrent.waitFor(piece * meta.pieceLength, (piece + pushed) * meta.pieceLength - 1), 10_000, 'the whole push')
    t.true((await torrent.readAt(piece * meta.pieceLength, PUSH_BYTES)).equals(bytes.subarray(piece * meta.pieceLength, piece * meta.pieceLength + PUSH_BYTES)))
    t.false(torrent.have.get(piece + pushed), 'nothing past the push came')
    // Each pushed its share (and the first piece whole: the copy that came first counts).
    const sources = torrent.sources()
    t.deepEqual(Object.keys(sources).sort(), ['home', 'studio'])
    t.is(sources.home! + sources.studio!, PUSH_BYTES)
    t.true(sources.home! >= (PUSH_BYTES - meta.pieceLength) / 2 && sources.studio! >= (PUSH_BYTES - meta.pieceLength) / 2)
  })
}

test('a named holder that does not hold the track pushes nothing, and the read is still served', async (t) => {
  const { c, dir, bytes, meta, laptop } = await homeHoldsForLaptop(t, 1_000_000)
  const studio = await startSwarm(t, c, 1, dir) // the library said it holds the track; it no longer does
  await linked(studio, laptop)
  const torrent = await laptop.open(meta.sha256, { from: 0, holders: laptop.devices.online().map((l) => l.device) })
  await within(torrent.waitFor(0, PUSH_BYTES - 1), 10_000, 'the first pieces')
  t.true((await torrent.readAt(0, PUSH_BYTES)).equals(bytes.subarray(0, PUSH_BYTES)))
  t.deepEqual(Object.keys(torrent.sources()), ['home'])
})

test('blocks of a pushed piece that nobody pushed are asked of the first wire before the rest of the file', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 8_000_000, c.circleSecret)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const torrent = await startLeecher(t, c.devices[1]!, c.roster, meta, join(dir, 'cache'), [])
  // Half of piece 0 came pushed; the pusher of the other half never sent it.
  for (let off = 0; off < meta.pieceLength; off += 2 * BLOCK) torrent.gift('home', 0, off, bytes.subarray(off, off + BLOCK))
  const order: number[] = []
  torrent.on('piece', (i) => order.push(i))
  const sock = await dialLink('127.0.0.1', seeder.port)
  sock.on('error', () => {})
  torrent.addPeer(await authenticate(sock, { credentials: c.devices[1]!.credentials, roster: () => c.roster, infoHash: meta.infoHash, remote: { host: '127.0.0.1', port: seeder.port } }))
  await within(new Promise<void>((r) => torrent.on('piece', (i) => i === 0 && r())), 10_000, 'piece 0')
  t.true((await torrent.readAt(0, meta.pieceLength)).equals(bytes.subarray(0, meta.pieceLength)))
  // Not left for the end-game, after the rest of the file.
  t.true(order.indexOf(0) < 16, `piece 0 was written ${order.indexOf(0) + 1}th of ${meta.pieceCount}`)
})

test('pushed blocks that fail the piece hash are never served; a good copy pushed later is', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 300_000, c.circleSecret)
  const torrent = new Torrent(meta, await PartialFile.open(join(dir, 'cache'), meta))
  t.teardown(() => torrent.close())
  const blocks = (from: Buffer) => Array.from({ length: meta.pieceLength / BLOCK }, (_, i) => from.subarray(i * BLOCK, (i + 1) * BLOCK))
  const bad = Buffer.from(bytes.subarray(0, meta.pieceLength))
  bad[5] = bad[5]! ^ 0xff
  let served = false
  void torrent.waitFor(0, 10).then(() => (served = true))
  for (const [i, b] of blocks(bad).entries()) torrent.gift('home', 0, i * BLOCK, b)
  torrent.gift('home', 99_999, 0, bytes.subarray(0, BLOCK)) // no such piece: ignored
  torrent.gift('home', 1, 0, bytes.subarray(0, 100)) // the wrong size: ignored
  await new Promise((r) => setImmediate(r))
  t.false(served)
  t.false(torrent.have.get(0))
  for (const [i, b] of blocks(bytes.subarray(0, meta.pieceLength)).entries()) torrent.gift('home', 0, i * BLOCK, b)
  await within(torrent.waitFor(0, 10), 5_000, 'the good piece')
  t.true((await torrent.readAt(0, 64)).equals(bytes.subarray(0, 64)))
})

test('each pusher sends the piece under the reader whole, from its own first block, and its share of the rest', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 1_000_000, c.circleSecret)
  const torrent = new Torrent(meta, await CompleteFile.open(path, meta))
  t.teardown(() => torrent.close())
  const L = meta.pieceLength
  const from = 3 * L + 100
  const parts = await Promise.all([0, 1, 2].map((k) => torrent.pushBlocks(from, PUSH_BYTES, k, 3)))
  const blocksOfFirst = L / BLOCK
  for (const [k, blocks] of parts.entries()) {
    const first = blocks.filter((b) => b.index === 3)
    t.is(first.length, blocksOfFirst, `pusher ${k} sends piece 3 whole`)
    t.is(first[0]!.offset, Math.floor((k * blocksOfFirst) / 3) * BLOCK, `pusher ${k} starts at its own block`)
    for (const b of blocks) t.true(Buffer.from(b.data).equals(bytes.subarray(b.index * L + b.offset, b.index * L + b.offset + b.data.length)))
  }
  const rest = parts.flat().filter((b) => b.index !== 3).map((b) => `${b.index}:${b.offset}`)
  t.is(new Set(rest).size, rest.length, 'the rest is not sent twice')
  t.is(rest.length, (PUSH_BYTES - L) / BLOCK, 'and all of it is sent')
  t.deepEqual([...new Set(parts.flat().map((b) => b.index))].sort((a, b) => a - b), [3, 4, 5, 6])
})

test("a reader's open settles on its first holder; a holder that answers later joins the torrent as a wire", async (t) => {
  const { c, path, bytes, meta, laptop } = await homeHoldsForLaptop(t, 8_000_000)
  // The studio serves the track from a seeder of its own and answers lookups only when the test says.
  const seeder = await startSeeder(t, c.devices[1]!, c.roster, meta, path)
  const studio = await handLinkedDevice(t, c, 1, laptop, seeder.port)
  const answer = deferred<void>()
  studio.wire.on('extended', (name, payload) => {
    const m = name === LOOKUP_EXTENSION ? asDict(decode(payload), 'lookup') : {}
    if (Buffer.from(m.t as Uint8Array).toString() !== 'q') return
    void answer.promise.then(() => studio.wire.extended(LOOKUP_EXTENSION, encode({ t: 'r', id: m.id as number, info: encodeInfoDict(meta, c.circleSecret) })))
  })
  studio.wire.resume()
  await until(async () => (laptop.devices.online().length === 2 ? true : undefined))
  const torrent = await laptop.open(meta.sha256, { from: 0 })
  t.true(torrent.peerCount <= 1, 'opened on the first holder, not waiting for the studio')
  answer.resolve()
  await until(async () => (torrent.peerCount === 2 ? true : undefined), 10_000)
  await within(torrent.waitFor(0, meta.size - 1), 20_000, 'the whole track')
  t.true((await torrent.readAt(0, meta.size)).equals(bytes))
})

test('a second reader of a track whose wires are still being dialled does not dial its holders again', async (t) => {
  const c = makeCircle(['home', 'studio', 'laptop'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 1_000_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 2, dir)
  // The studio's track wires take 500 ms to answer (a slow link); it answers lookups at once.
  const studio = await slowHolder(t, c, 1, laptop, { meta, path }, { authAfterMs: 500 })
  await until(async () => (laptop.devices.online().length === 1 ? true : undefined))
  const first = await laptop.open(meta.sha256, { from: 0 })
  t.is(first.peerCount, 0, 'the first open returns while its wire is being dialled')
  // The player's next range, at once: the tail.
  const second = await laptop.open(meta.sha256, { from: meta.size - 64 * 1024 })
  t.is(second, first)
  await first.waitFor(0, meta.size - 1)
  t.is(studio.wires(), 1, 'one wire to the studio, not one per open')
  t.is(first.peerCount, 1)
})
