// The pull job against a scripted swarm: each reason a track is missing,
// the final re-hash, pins, and at most two fetches at a time.
import test from 'ava'
import { EventEmitter } from 'node:events'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GigPull, NO_WIRES_GRACE, PULL_STALL, type PullEntry, type PullSwarm } from '../../src/node/gig-pull.ts'
import { PieceFileError, SwarmError, type Torrent } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A torrent that finishes (or fails) when the test says so. */
class FakeTorrent extends EventEmitter {
  complete = false
  peerCount = 1
  have = { count: 0 }
  constructor(readonly meta: { size: number; pieceLength: number }) {
    super()
  }
  sources() {
    return { 'home-pc': this.meta.size }
  }
}

interface Script {
  held: Set<string>
  /** What open() does per track. */
  open: Map<string, (t: FakeTorrent) => void | Promise<void>>
}

function fakeSwarm(s: Script, counters = { inFlight: 0, max: 0 }): PullSwarm {
  return {
    holds: (x) => s.held.has(x),
    open: async (x) => {
      const act = s.open.get(x)
      if (!act) throw new SwarmError('ERR_NO_HOLDER', `no online own device holds ${x.slice(0, 12)}`)
      const t = new FakeTorrent({ size: 10, pieceLength: 16384 })
      counters.inFlight++
      counters.max = Math.max(counters.max, counters.inFlight)
      t.once('done', () => counters.inFlight--)
      t.once('warning', () => counters.inFlight--)
      setTimeout(() => void act(t), 20)
      return t as unknown as Torrent
    },
  }
}

test('present, fetched, missing for each reason; the files are hashed again at the end; pins', async (t) => {
  const dir = await tempDir(t)
  const files = new Map<string, string>()
  const make = async (name: string, body: string) => {
    const bytes = Buffer.from(body)
    const path = join(dir, name)
    await writeFile(path, bytes)
    files.set(sha(bytes), path)
    return sha(bytes)
  }
  const here = await make('here', 'held in the library')
  const rotten = sha(Buffer.from('what the file was at scan time'))
  await make('rotten', 'what it is now')
  files.set(rotten, join(dir, 'rotten'))
  const fetched = await make('fetched', 'fetched from home-pc')
  const noHolder = sha(Buffer.from('no holder'))
  const full = sha(Buffer.from('disk full'))
  const badHash = sha(Buffer.from('bad hash'))
  const unlisted = sha(Buffer.from('nobody lists it'))
  const pins: string[] = []
  const script: Script = {
    held: new Set([here, rotten]),
    open: new Map<string, (x: FakeTorrent) => void>([
      [fetched, (x) => {
        script.held.add(fetched)
        x.emit('done', files.get(fetched))
      }],
      [full, (x) => x.emit('warning', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))],
      [badHash, (x) => x.emit('warning', new PieceFileError('ERR_VERIFY', 'the fetched file does not match its SHA-256'))],
    ]),
  }
  const entry = (s: string, title: string, position: number, listed = true): PullEntry => ({ sha256: s, title, position, size: 10, listed })
  const job = new GigPull({
    playlist: 'Friday',
    device: { id: 'dev', name: 'laptop' },
    entries: [
      entry(here, 'Here', 1), entry(rotten, 'Rotten', 2), entry(fetched, 'Fetched', 3), entry(noHolder, 'Gone', 4),
      entry(full, 'Full', 5), entry(badHash, 'Bad', 6), entry(unlisted, 'Nobody', 7, false), entry(here, 'Here', 8),
    ],
    swarm: fakeSwarm(script),
    locate: async (s) => files.get(s),
    pin: (s) => void pins.push(s),
  })
  let progress = 0
  job.on('progress', () => progress++)
  const r = await job.run()
  const by = Object.fromEntries(r.tracks.map((x) => [x.title, x]))
  t.deepEqual(Object.fromEntries(r.tracks.map((x) => [x.title, [x.state, x.reason ?? null, x.verified]])), {
    Here: ['present', null, true],
    Rotten: ['missing', 'verification failed', false],
    Fetched: ['fetched', null, true],
    Gone: ['missing', 'no online holder', false],
    Full: ['missing', 'disk full', false],
    Bad: ['missing', 'verification failed', false],
    Nobody: ['missing', 'not held by any own device', false],
  })
  t.deepEqual(by.Here!.positions, [1, 8])
  t.is(by.Rotten!.detail, 'the bytes on disk do not match the track id')
  t.deepEqual(by.Fetched!.sources, { 'home-pc': 10 })
  t.deepEqual([r.present, r.fetched, r.missing, r.ready, r.pinned], [2, 1, 5, false, true])
  t.deepEqual(pins.sort(), [here, rotten, fetched].sort())
  t.true(progress > 7)
})

test('two fetches at a time; an empty playlist is trivially ready; without a pin hook the report says unpinned', async (t) => {
  const dir = await tempDir(t)
  const shas: string[] = []
  const files = new Map<string, string>()
  for (let i = 0; i < 6; i++) {
    const b = Buffer.from(`track ${i}`)
    await writeFile(join(dir, String(i)), b)
    shas.push(sha(b))
    files.set(sha(b), join(dir, String(i)))
  }
  const script: Script = { held: new Set(), open: new Map() }
  for (const s of shas) {
    script.open.set(s, async (x) => {
      await new Promise((r) => setTimeout(r, 30))
      script.held.add(s)
      x.emit('done', files.get(s))
    })
  }
  const counters = { inFlight: 0, max: 0 }
  const r = await new GigPull({
    playlist: 'P', device: { id: 'd', name: 'n' },
    entries: shas.map((s, i) => ({ sha256: s, title: `T${i}`, position: i + 1, size: 7, listed: true })),
    swarm: fakeSwarm(script, counters), locate: async (s) => files.get(s),
  }).run()
  t.true(r.ready)
  t.is(r.fetched, 6)
  t.is(counters.max, 2)
  t.false(r.pinned)
  const empty = await new GigPull({ playlist: 'E', device: { id: 'd', name: 'n' }, entries: [], swarm: fakeSwarm(script), locate: async () => undefined }).run()
  t.true(empty.ready)
  t.is(empty.tracks.length, 0)
  // a stopped job gives no report: nothing it did not check is called ready
  const stopped = new AbortController()
  stopped.abort()
  const job = new GigPull({ playlist: 'S', device: { id: 'd', name: 'n' }, entries: [{ sha256: shas[0]!, title: 'T', position: 1, size: 7, listed: true }], swarm: fakeSwarm(script), locate: async (s) => files.get(s) })
  await t.throwsAsync(job.run(stopped.signal), { name: 'AbortError' })
  t.is(job.report, null)
})

test('a job stopped while a track is mid-transfer ends at once, not at the next track or the stall timeout', async (t) => {
  const script: Script = { held: new Set(), open: new Map() }
  const slow = 'a'.repeat(64)
  let torrent: FakeTorrent | undefined
  // The transfer starts and then never finishes: pieces trickle, no 'done'.
  script.open.set(slow, (x) => {
    torrent = x
    x.emit('piece')
  })
  const job = new GigPull({
    playlist: 'P', device: { id: 'd', name: 'n' },
    entries: [{ sha256: slow, title: 'Slow', position: 1, size: 10, listed: true }],
    swarm: fakeSwarm(script), locate: async () => undefined, stallMs: 60_000,
  })
  const stop = new AbortController()
  const running = job.run(stop.signal)
  while (!torrent) await new Promise((r) => setTimeout(r, 5))
  t.is(job.tracks[0]!.state, 'fetching')
  const at = performance.now()
  stop.abort(new Error('closing'))
  const err = await t.throwsAsync(running)
  t.is(err?.name, 'AbortError')
  t.true(performance.now() - at < 2_000, 'the wait on the transfer ended with the signal')
  t.not(job.tracks[0]!.state, 'missing', 'a stopped track is not reported missing')
})

test('a fetch whose wires all went looks its holders up again after noWiresGraceMs; nobody holds it now: missing', async (t) => {
  const gone = sha(Buffer.from('its only holder went'))
  let lostAt = 0
  let askedAgainAt = 0
  const script: Script = {
    held: new Set(),
    open: new Map([[gone, (x: FakeTorrent) => {
      // The holder's wire closes; from now on no device holds the track.
      x.peerCount = 0
      lostAt = Date.now()
      script.open.delete(gone)
    }]]),
  }
  const swarm = fakeSwarm(script)
  const counted: PullSwarm = {
    holds: swarm.holds,
    open: (x, o) => {
      if (lostAt) askedAgainAt = Date.now()
      return swarm.open(x, o)
    },
  }
  const noWiresGraceMs = 300
  // The job's watch timer is unref'd (a node keeps the process alive); here the test does.
  const alive = setInterval(() => {}, 1_000)
  t.teardown(() => clearInterval(alive))
  const r = await new GigPull({
    playlist: 'P', device: { id: 'd', name: 'n' },
    entries: [{ sha256: gone, title: 'Gone', position: 1, size: 10, listed: true }],
    swarm: counted, locate: async () => undefined, noWiresGraceMs,
  }).run()
  t.deepEqual(r.tracks.map((x) => [x.state, x.reason]), [['missing', 'no online holder']])
  t.true(askedAgainAt - lostAt >= noWiresGraceMs, 'not before the grace')
  t.true(askedAgainAt - lostAt < NO_WIRES_GRACE, 'the option, not the 2 s default')
})

test('a fetch with a wire but no piece for stallMs is missing as stalled, checked every watchMs', async (t) => {
  const silent = sha(Buffer.from('its holder sends nothing'))
  let openedAt = 0
  // The holder's wire stays open (peerCount 1) and no piece ever comes.
  const script: Script = { held: new Set(), open: new Map([[silent, () => void (openedAt = Date.now())]]) }
  const alive = setInterval(() => {}, 1_000)
  t.teardown(() => clearInterval(alive))
  const stallMs = 400
  const r = await new GigPull({
    playlist: 'P', device: { id: 'd', name: 'n' },
    entries: [{ sha256: silent, title: 'Silent', position: 1, size: 10, listed: true }],
    swarm: fakeSwarm(script), locate: async () => undefined, stallMs, watchMs: 50,
  }).run()
  const endedAt = Date.now()
  t.deepEqual(r.tracks.map((x) => [x.state, x.reason]), [['missing', 'fetch stalled']])
  t.regex(r.tracks[0]!.detail ?? '', /no data for \d+ s from 1 holder/)
  t.true(endedAt - openedAt >= stallMs - 50, 'not before the stall time')
  t.true(endedAt - openedAt < PULL_STALL, 'the option, not the 20 s default')
})
