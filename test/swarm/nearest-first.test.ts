// Nearest first (docs/swarm.md, "Source choice"): with a near holder (a
// plain loopback link) and a far one (its device link through a proxy that
// holds each chunk 60 ms each way), the laptop measures both links' round
// trips (it was dialled: by a ping and a lookup), asks only the near one to
// push a reader's first blocks, and gives a whole fetch's first requests to
// the near one without racing the far one for the same blocks.
import test, { type ExecutionContext } from 'ava'
import { randomBytes } from 'node:crypto'
import { makeCircle } from '../helpers/circle.ts'
import { handLinkedDevice, slowHolder, startSwarm } from '../helpers/circle-swarm.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { LOOKUP_EXTENSION, type Swarm } from '../../src/swarm/index.ts'
import { asDict, decode, encode } from '../../src/codec/index.ts'

const FAR_DELAY = 60 // ms each way

/**
 * Both holders' links are up and their round trips measured (a ping each,
 * then a lookup: two samples): the far one's is the proxy's.
 */
async function measured(t: ExecutionContext, laptop: Swarm): Promise<void> {
  await until(async () => (laptop.devices.online().length === 2 ? true : undefined))
  await laptop.devices.lookup(randomBytes(32).toString('hex'))
  const links = await until(async () => {
    const l = laptop.devices.online()
    return l.length === 2 && l.every((x) => x.rttMs !== undefined) ? l : undefined
  })
  const near = links.find((l) => l.name === 'near')!
  const far = links.find((l) => l.name === 'far')!
  t.true(far.rttMs! >= 2 * FAR_DELAY - 5, `far link ${far.rttMs} ms`)
  t.true(near.rttMs! < far.rttMs!, `near link ${near.rttMs} ms`)
}

test('a reader\'s lookup asks only the near holder to push the first blocks; the far one answers without a push ask', async (t) => {
  const c = makeCircle(['laptop', 'near', 'far'])
  const dir = await tempDir(t)
  const track = await randomTrackFile(dir, 1_000_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 0, dir)
  const near = await slowHolder(t, c, 1, laptop, track, {})
  const far = await slowHolder(t, c, 2, laptop, track, { linkDelayMs: FAR_DELAY })
  await measured(t, laptop)

  const before = { near: near.asks().length, far: far.asks().length } // the measuring lookup
  const torrent = await laptop.open(track.meta.sha256, { from: 0 })
  await until(async () => (far.asks().length > before.far ? true : undefined))
  t.deepEqual(near.asks().slice(before.near), [{ o: 0, k: 0, n: 1 }], 'the near holder pushes the whole first share alone')
  t.deepEqual(far.asks().slice(before.far), [{}], 'the far holder is looked up, not asked to push')
  // The read is still served (from the wires: these hand-made holders push nothing).
  await torrent.waitFor(0, 1000)
})

test('a whole fetch gives its first requests to the near holder and does not race the far one for the same blocks', async (t) => {
  const c = makeCircle(['laptop', 'near', 'far'])
  const dir = await tempDir(t)
  const track = await randomTrackFile(dir, 300_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 0, dir)
  // The near holder's track wire comes up a moment after the far one's: ready
  // order alone would give the far one the whole (small) file.
  const near = await slowHolder(t, c, 1, laptop, track, { authAfterMs: 300 })
  const far = await slowHolder(t, c, 2, laptop, track, { linkDelayMs: FAR_DELAY })
  await measured(t, laptop)

  const got = await laptop.fetch(track.meta.sha256)
  t.is(got.bytes, track.bytes.length)
  t.true(near.requests() > 0)
  t.is(far.requests(), 0, 'every block was asked of the near holder, none of the far one')
  t.deepEqual(Object.keys(got.sources), ['near'])
})

test('a reader\'s lookup settles on the near holder even when the far one answers first', async (t) => {
  const c = makeCircle(['laptop', 'near', 'far'])
  const dir = await tempDir(t)
  const track = await randomTrackFile(dir, 1_000_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 0, dir)
  const ANSWER_AFTER = 400 // ms: the near holder is busy; the far one's answer comes after ~2 x FAR_DELAY
  const near = await slowHolder(t, c, 1, laptop, track, { answerAfterMs: ANSWER_AFTER })
  await slowHolder(t, c, 2, laptop, track, { linkDelayMs: FAR_DELAY })
  await measured(t, laptop)

  const t0 = performance.now()
  const torrent = await laptop.open(track.meta.sha256, { from: 0 })
  const ms = performance.now() - t0
  // Settled once the near holder answered, not on the far one's earlier answer.
  t.true(ms >= ANSWER_AFTER - 20, `the open settled after ${Math.round(ms)} ms, before the near holder answered`)
  t.true(ms < 1_500, 'within the lookup time')
  t.deepEqual(near.asks().at(-1), { o: 0, k: 0, n: 1 })
  await torrent.waitFor(0, 1000)
})

test('a link\'s round trip keeps being sampled: a device slow to answer while it starts is not kept "farther" for the life of the link', async (t) => {
  const c = makeCircle(['laptop', 'phone'])
  const dir = await tempDir(t)
  const laptop = await startSwarm(t, c, 0, dir, { rttPingMs: 400 })
  // The phone dials the laptop (so the laptop has no connect sample) and answers its
  // first pings 80 ms late, as a device busy scanning does; later ones at once.
  const phone = await handLinkedDevice(t, c, 1, laptop, 1)
  let pongs = 0
  phone.wire.on('extended', (_name, payload) => {
    const m = asDict(decode(payload), 'lookup')
    if (Buffer.from(m.t as Uint8Array).toString() !== 'ping') return
    const pong = () => phone.wire.extended(LOOKUP_EXTENSION, encode({ t: 'pong', id: m.id as number }))
    if (pongs++ < 2) setTimeout(pong, 80).unref()
    else pong()
  })
  phone.wire.resume()
  const link = await until(async () => laptop.devices.online().find((l) => l.rttMs !== undefined))
  t.true(link.rttMs! >= 80, `measured while busy: ${link.rttMs} ms`)
  // Pinged again every 400 ms: the lowest sample soon says what the path is.
  await until(async () => (link.rttMs! < 40 ? true : undefined), 10_000, 20)
  t.true(pongs > 2)
})
