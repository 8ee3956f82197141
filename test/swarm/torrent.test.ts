import test, { type ExecutionContext } from 'ava'
import { once } from 'node:events'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { makeCircle } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { randomTrackFile, startLeecher, startSeeder } from '../helpers/swarm.ts'
import { CompleteFile, PartialFile } from '../../src/swarm/piece-file.ts'
import { REQUEST_TIMEOUT, queueDepth } from '../../src/swarm/torrent.ts'
import { BLOCK } from '../../src/swarm/torrent-meta.ts'
import { authenticate } from '../../src/swarm/protocol/session.ts'
import { dialLink, linkRtt } from '../../src/link/index.ts'
import { deferred } from '../helpers/deferred.ts'
import { until } from '../helpers/until.ts'

const MB = 1024 * 1024

test('three seeders feed one download in parallel and the file verifies', async (t) => {
  const c = makeCircle(['home', 'phone', 'nas', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 12 * MB + 12345, c.circleSecret)
  const seeders = await Promise.all([0, 1, 2].map((i) => startSeeder(t, c.devices[i]!, c.roster, meta, path)))
  const leecher = await startLeecher(t, c.devices[3]!, c.roster, meta, join(dir, 'cache'), seeders.map((s) => s.port))
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  const sources = leecher.sources()
  t.deepEqual(Object.keys(sources).sort(), ['home', 'nas', 'phone'])
  t.is(Object.values(sources).reduce((a, b) => a + b, 0), meta.size)
})

test('a seeder killed in the middle does not stop the download', async (t) => {
  const c = makeCircle(['home', 'phone', 'nas', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 16 * MB, c.circleSecret)
  const seeders = await Promise.all([0, 1, 2].map((i) => startSeeder(t, c.devices[i]!, c.roster, meta, path)))
  const leecher = await startLeecher(t, c.devices[3]!, c.roster, meta, join(dir, 'cache'), seeders.map((s) => s.port))
  let killed = false
  leecher.on('piece', () => {
    if (!killed && leecher.have.count > meta.pieceCount / 4) {
      killed = true
      void seeders[1]!.kill()
    }
  })
  const [final] = await once(leecher, 'done')
  t.true(killed)
  t.true((await readFile(final as string)).equals(bytes))
})

test('a peer serving corrupted pieces is banned and the file still verifies', async (t) => {
  const c = makeCircle(['home', 'liar', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 8 * MB, c.circleSecret)
  const honest = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const real = await CompleteFile.open(path, meta)
  const lying = {
    have: real.have,
    read: async (i: number, off: number, len: number) => {
      const b = await real.read(i, off, len)
      if (i % 2 === 0) b[0]! ^= 0xff // every even piece is damaged
      return b
    },
    readAt: (p: number, l: number) => real.readAt(p, l),
    close: () => real.close(),
  }
  const liar = await startSeeder(t, c.devices[1]!, c.roster, meta, lying)
  const leecher = await startLeecher(t, c.devices[2]!, c.roster, meta, join(dir, 'cache'), [honest.port, liar.port])
  const banned: string[] = []
  leecher.on('banned', (p, reason) => banned.push(`${p.peer.certificate.name}: ${reason}`))
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  t.true(banned.length >= 1)
  t.regex(banned[0]!, /^liar: sent piece \d+ with a bad hash$/)
})

test('a read in the middle is served first, and a restart resumes from verified pieces', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const cache = join(dir, 'cache')
  const { path, bytes, meta } = await randomTrackFile(dir, 20 * MB, c.circleSecret)
  // a slow seeder (one block per ms), so the download can be stopped part-way
  const file = await CompleteFile.open(path, meta)
  let queue = Promise.resolve()
  const slow = {
    have: file.have,
    read: (i: number, off: number, len: number) => {
      const r = queue.then(() => new Promise((res) => setTimeout(res, 1))).then(() => file.read(i, off, len))
      queue = r.then(() => {}, () => {})
      return r
    },
    readAt: (p: number, l: number) => file.readAt(p, l),
    close: () => file.close(),
  }
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, slow)
  const first = await startLeecher(t, c.devices[1]!, c.roster, meta, cache, [seeder.port])
  const mid = 10 * MB
  await first.waitFor(mid, mid + 65535)
  t.true((await first.readAt(mid, 65536)).equals(bytes.subarray(mid, mid + 65536)))
  // stop part-way (as a killed node would), then resume in a new torrent
  const stopped = new Promise<void>((resolve) => {
    first.on('piece', () => {
      if (first.have.count >= meta.pieceCount / 3 && !first.destroyed) void first.close().then(resolve)
    })
  })
  await stopped
  const part = await PartialFile.open(cache, meta)
  const resumedWith = part.unverifiedCount
  t.true(resumedWith > 0 && resumedWith < meta.pieceCount, `resumed with ${resumedWith} pieces`)
  t.is(part.have.count, 0, 'a resumed piece counts only once checked again')
  await part.close()
  const second = await startLeecher(t, c.devices[1]!, c.roster, meta, cache, [seeder.port])
  let corrupt = 0
  second.on('corrupt', () => corrupt++)
  const [final] = await once(second, 'done')
  t.is(corrupt, 0)
  t.true((await readFile(final as string)).equals(bytes))
  t.is((await stat(final as string)).size, meta.size)
  t.true(second.sources().home! <= meta.size - resumedWith * meta.pieceLength + meta.pieceLength)
})

test('a peer asking for a piece that is not offered is dropped', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { meta } = await randomTrackFile(dir, 2 * MB, c.circleSecret)
  // a device that holds nothing of the track yet
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, await PartialFile.open(join(dir, 'c1'), meta))
  const banned = once(seeder.torrent, 'banned')
  const sock = await dialLink('127.0.0.1', seeder.port)
  sock.on('error', () => {})
  const session = await authenticate(sock, { credentials: c.devices[1]!.credentials, roster: () => c.roster, infoHash: meta.infoHash })
  const closed = once(session.wire, 'close')
  session.wire.interested()
  session.wire.request(0, 0, 16384)
  const [, reason] = await banned
  t.is(reason, 'requested a piece that is not offered')
  await closed
  t.true(session.wire.destroyed)
})

/** A piece source that behaves like `file` but lets a test hold back or count reads. */
function controlled(file: CompleteFile, gate: (index: number) => Promise<void>) {
  return {
    have: file.have,
    read: async (i: number, off: number, len: number) => {
      await gate(i)
      return file.read(i, off, len)
    },
    readAt: (p: number, l: number) => file.readAt(p, l),
    close: () => file.close(),
  }
}

test('a seeder that chokes us half-way hands its pieces back to the other seeder', async (t) => {
  const c = makeCircle(['home', 'phone', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 8 * MB, c.circleSecret)
  const fast = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  let served = 0
  const choker = await startSeeder(t, c.devices[1]!, c.roster, meta, controlled(await CompleteFile.open(path, meta), async () => {
    served++
  }))
  choker.torrent.on('peer', (s) => {
    s.wire.on('request', () => {
      if (served > 20 && !s.wire.amChoking) s.wire.choke() // and it never unchokes
    })
  })
  const leecher = await startLeecher(t, c.devices[2]!, c.roster, meta, join(dir, 'cache'), [choker.port, fast.port])
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  t.true(served > 20)
  t.true(leecher.sources().home! > 0)
})

test('a seeder that goes silent is timed out and its requests go elsewhere', async (t) => {
  const c = makeCircle(['home', 'phone', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  let reads = 0
  // answers a few requests, then never again (a hung process, a dead link without a FIN)
  const silent = await startSeeder(t, c.devices[1]!, c.roster, meta, controlled(await CompleteFile.open(path, meta), () =>
    ++reads > 8 ? new Promise<void>(() => {}) : Promise.resolve(),
  ))
  const requestTimeoutMs = 1_000 // 4 s in production
  const leecher = await startLeecher(t, c.devices[2]!, c.roster, meta, join(dir, 'cache'), [silent.port], { requestTimeoutMs })
  const started = Date.now()
  const [stalled] = (await once(leecher, 'stalled')) as [{ peer: { certificate: { name: string } } }]
  t.is(stalled.peer.certificate.name, 'phone')
  const took = Date.now() - started
  t.true(took >= requestTimeoutMs, 'not before the request timeout')
  t.true(took < REQUEST_TIMEOUT, 'the option, not the 4 s default')
  // the work it held goes to a holder that arrives now
  const fast = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const sock = await dialLink('127.0.0.1', fast.port)
  sock.on('error', () => {})
  leecher.addPeer(await authenticate(sock, { credentials: c.devices[2]!.credentials, roster: () => c.roster, infoHash: meta.infoHash }))
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
})

/** Most requests waiting at a seeder that answers one block at a time (each after a short timer: a rate, not a stall), fetched over a path of `rttMs`. */
async function mostQueued(t: ExecutionContext, rttMs: number, from: 'session' | 'link' = 'session'): Promise<{ most: number; fixed: number }> {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 16 * MB, c.circleSecret)
  let chain = Promise.resolve()
  let pending = 0
  let most = 0
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, controlled(await CompleteFile.open(path, meta), () => {
    most = Math.max(most, ++pending)
    const mine = chain.then(() => new Promise<void>((r) => setTimeout(r, 2)))
    chain = mine
    return mine.then(() => void pending--)
  }))
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, join(dir, 'cache'), [])
  const sock = await dialLink('127.0.0.1', seeder.port)
  sock.on('error', () => {})
  const s = await authenticate(sock, { credentials: c.devices[1]!.credentials, roster: () => c.roster, infoHash: meta.infoHash, remote: { host: '127.0.0.1', port: seeder.port } })
  // What the dial measured (the TCP connect) is a loopback's; the path this wire stands for is given.
  t.true(linkRtt(sock)! >= 0)
  if (from === 'session') {
    s.rttMs = rttMs
    leecher.addPeer(s)
  } else {
    // A transport that times no connect (a WebRTC data channel): the round trip is the link's, given with the wire.
    delete s.rttMs
    leecher.addPeer(s, rttMs)
  }
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  // A fixed queue never has more out than its 32 blocks plus the rest of the last piece started.
  return { most, fixed: queueDepth(0) + meta.pieceLength / BLOCK - 1 }
}

test('a wire that delivers fast over a long path gets a request queue sized to its rate, beyond the fixed minimum', async (t) => {
  // Under loss, blocks held in the kernel behind a lost packet count against
  // a wire's queue: a fixed 32 blocks left the seeder idle (bench/wan). The
  // queue follows the rate the wire delivers (queueDepth), so a seeder
  // answering one block at a time at 100 ms still gets far more than 32 asked of it.
  const { most, fixed } = await mostQueued(t, 100)
  t.true(most > fixed, `at most ${most} requests were waiting at the seeder (a fixed queue allows ${fixed})`)
})

test('over a short path (a LAN) the same wire keeps the minimum queue, for a seek to wait behind', async (t) => {
  const { most, fixed } = await mostQueued(t, 1)
  t.true(most <= fixed, `${most} requests were waiting at the seeder (the minimum allows ${fixed})`)
})

test('a wire whose transport timed no round trip (WebRTC) sizes its queue by its link\'s: the minimum over a short path', async (t) => {
  // Half a second of rate instead kept up to 2 MiB queued at a seeder: a page's seek waited ~300 ms behind it (bench/browser).
  const { most, fixed } = await mostQueued(t, 1, 'link')
  t.true(most <= fixed, `${most} requests were waiting at the seeder (the minimum allows ${fixed})`)
})

test('the request queue follows the rate: 32 blocks at least, about five round trips of data (half a second at most), 128 at most', (t) => {
  t.is(queueDepth(0), 32)
  t.is(queueDepth(100 * 1024), 32) // 100 KiB/s: half a second is 4 blocks
  t.is(queueDepth(2.5e6), Math.ceil(1.25e6 / BLOCK)) // a 20 Mbit/s uplink, round trip unknown: half a second, 77 blocks
  t.is(queueDepth(2.5e6, 100), Math.ceil(1.25e6 / BLOCK)) // the same at 100 ms: five round trips are half a second
  t.is(queueDepth(2.5e6, 400), Math.ceil(1.25e6 / BLOCK)) // at most half a second
  t.is(queueDepth(1e8, 4), Math.ceil(2e6 / BLOCK)) // 100 MB/s over a 4 ms LAN: 20 ms of it, 123 blocks
  t.is(queueDepth(1e9), 128) // loopback, round trip unknown: 2 MiB
  t.is(queueDepth(1e9, 0.1), 32) // loopback as its connect measured it: the minimum
  // A browser device keeps a smaller minimum (a seek waits behind it); the rate still grows it.
  t.is(queueDepth(5e6, 1, 16), 16) // 5 MB/s over a 1 ms path: 16 blocks, where a Node device keeps 32
  t.is(queueDepth(5e6, 1), 32)
  t.is(queueDepth(2.5e6, 100, 16), Math.ceil(1.25e6 / BLOCK))
})

test('end-game: the last blocks are asked of every holder and the slower copy is cancelled', async (t) => {
  const c = makeCircle(['home', 'phone', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  const fast = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  // The slow seeder answers nothing until the leecher is done: the leecher can
  // finish only by asking the fast one for the blocks it holds (end-game), and
  // the request timeout is far off, so it is not what hands them over.
  const hold = deferred<void>()
  t.teardown(() => hold.resolve())
  const slow = await startSeeder(t, c.devices[1]!, c.roster, meta, controlled(await CompleteFile.open(path, meta), () => hold.promise))
  let cancels = 0
  let slowRequests = 0
  const asked = deferred<void>()
  slow.torrent.on('peer', (s) => {
    s.wire.on('cancel', () => cancels++)
    s.wire.on('request', () => ++slowRequests === 1 && asked.resolve())
  })
  // The fast seeder joins only once the slow one holds requests, or on a busy
  // machine it can finish alone before the slow one's handshake is done.
  const leecher = await startLeecher(t, c.devices[2]!, c.roster, meta, join(dir, 'cache'), [slow.port], { requestTimeoutMs: 600_000 })
  await asked.promise
  const sock = await dialLink('127.0.0.1', fast.port)
  sock.on('error', () => {})
  leecher.addPeer(await authenticate(sock, { credentials: c.devices[2]!.credentials, roster: () => c.roster, infoHash: meta.infoHash }))
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  // the cancels left before 'done'; give the slow seeder's wire time to parse them
  await until(async () => (cancels > 0 ? true : undefined), 10_000, 20).catch(() => {})
  t.true(cancels > 0, 'blocks duplicated in end-game were cancelled on the slow seeder')
  t.true(slowRequests > 0)
  hold.resolve()
})

test('starting playback: the asked-for start and the tail come first; the rest of the file waits out the hold, then completes', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const asked: Array<{ index: number; at: number }> = []
  seeder.torrent.on('peer', (s) => s.wire.on('request', (index: number) => asked.push({ index, at: performance.now() })))
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, join(dir, 'cache'), [seeder.port])
  const started = performance.now()
  leecher.prioritize(0, meta.pieceLength - 1)
  leecher.prioritizeTail(64 * 1024)
  leecher.holdBackground(600)
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  const tail = new Set(Array.from({ length: meta.pieceCount }, (_, i) => i).filter((i) => (i + 1) * meta.pieceLength > meta.size - 64 * 1024))
  const during = new Set(asked.filter((a) => a.at < started + 550).map((a) => a.index))
  t.deepEqual([...during].sort((a, b) => a - b), [0, ...tail].sort((a, b) => a - b), 'during the hold: the start and the tail only')
  const order = [...new Set(asked.map((a) => a.index))]
  t.is(order[0], 0)
  t.true([...tail].every((i) => order.indexOf(i) < order.indexOf(1)), 'the tail before the second piece')
  t.true(asked.some((a) => a.at >= started + 550), 'the rest after the hold')
})

test('a holder unchokes an authenticated peer with its bitfield, before any interested: the first request goes out a round trip sooner', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 300_000, c.circleSecret)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const sock = await dialLink('127.0.0.1', seeder.port)
  sock.on('error', () => {})
  const s = await authenticate(sock, { credentials: c.devices[1]!.credentials, roster: () => c.roster, infoHash: meta.infoHash, remote: { host: '127.0.0.1', port: seeder.port } })
  t.teardown(() => s.wire.destroy())
  const seen: string[] = []
  s.wire.on('bitfield', () => seen.push('bitfield'))
  const unchoked = new Promise<void>((r) => s.wire.once('unchoke', () => r()))
  s.wire.on('unchoke', () => seen.push('unchoke'))
  s.wire.resume()
  await unchoked
  t.deepEqual(seen, ['bitfield', 'unchoke'])
  t.false(s.wire.amInterested, 'nothing was sent to ask for it')
})

test('HAVE goes only to peers that lack the piece: a seeder hears none, a partial holder hears each piece it lacks', async (t) => {
  const c = makeCircle(['home', 'laptop', 'phone'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 2 * MB, c.circleSecret)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  // The laptop holds the first half.
  const half = await PartialFile.open(join(dir, 'half'), meta)
  const lacking: number[] = []
  for (let i = 0; i < meta.pieceCount; i++) {
    if (i < meta.pieceCount / 2) await half.writePiece(i, bytes.subarray(i * meta.pieceLength, Math.min(meta.size, (i + 1) * meta.pieceLength)))
    else lacking.push(i)
  }
  const partial = await startSeeder(t, c.devices[1]!, c.roster, meta, half)
  const heard = { seeder: [] as number[], partial: [] as number[] }
  seeder.torrent.on('peer', (s) => s.wire.on('have', (i: number) => heard.seeder.push(i)))
  partial.torrent.on('peer', (s) => s.wire.on('have', (i: number) => heard.partial.push(i)))
  const leecher = await startLeecher(t, c.devices[2]!, c.roster, meta, join(dir, 'cache'), [seeder.port, partial.port])
  const [final] = await once(leecher, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  await until(async () => (heard.partial.length >= lacking.length ? true : undefined), 10_000, 20)
  t.deepEqual(heard.seeder, [])
  t.deepEqual([...new Set(heard.partial)].sort((a, b) => a - b), lacking)
})
