// DEBUG=djcloud:swarm:* traces what matters for a stalled fetch or a peer
// that cannot get in: refusals with their reason, bans, and a fetch piece by
// piece. Real swarms on 127.0.0.1.
import test, { type ExecutionContext } from 'ava'
import { join } from 'node:path'
import { Swarm } from '../../src/swarm/index.ts'
import { BanList } from '../../src/swarm/ban-list.ts'
import { makeCircle, type TestCircle } from '../helpers/circle.ts'
import { startSwarm as startCircleSwarm } from '../helpers/circle-swarm.ts'
import { debugLines } from '../helpers/debug-lines.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Device `i` of `c`, its cache named by its key (circles here share `dir`), on `circleSecret`'s device channel. */
const startSwarm = (t: ExecutionContext, c: TestCircle, i: number, dir: string, circleSecret = c.circleSecret): Promise<Swarm> =>
  startCircleSwarm(t, c, i, dir, { circleSecret, cacheDir: join(dir, `cache-${hex(c.devices[i]!.key.publicKey)}`) })

test.serial('a refused peer is logged with its reason, under this device\'s short id', async (t) => {
  const lines = debugLines(t, 'djcloud:swarm')
  const mine = makeCircle(['home'])
  const theirs = makeCircle(['stranger'])
  const dir = await tempDir(t)
  const home = await startSwarm(t, mine, 0, dir)
  // A device of another circle that knows this circle's channel: its certificate's owner is unknown here.
  const stranger = await startSwarm(t, theirs, 0, dir, mine.circleSecret)
  const refused = new Promise<string>((resolve) => home.once('refused', (_host, reason) => resolve(reason)))
  await t.throwsAsync(stranger.connectDevice('127.0.0.1', home.port))
  t.is(await refused, 'unknown-owner')
  const line = await until(async () => lines.find((l) => l.includes('refused 127.0.0.1: unknown-owner')), 10_000)
  t.regex(line, new RegExp(`djcloud:swarm \\[${hex(mine.devices[0]!.key.publicKey).slice(0, 8)}\\] refused 127\\.0\\.0\\.1: unknown-owner`))
})

test.serial('the ban list logs a throttle and a ban with why', (t) => {
  const lines = debugLines(t, 'djcloud:swarm:ban')
  const bans = new BanList({ now: () => 1_000_000 })
  for (let i = 0; i < 3; i++) bans.failure('192.0.2.7', 'bad-signature')
  t.true(bans.throttled('192.0.2.7'))
  bans.banIdentity('ab'.repeat(32), 'liar: sent piece 2 with a bad hash')
  t.is(lines.length, 2)
  t.regex(lines[0]!, /djcloud:swarm:ban throttle 192\.0\.2\.7 for 600 s: 3 failures in 10 min \(last: bad-signature\)/)
  t.regex(lines[1]!, /djcloud:swarm:ban ban device abababababababab for 600 s: liar: sent piece 2 with a bad hash/)
})

test.serial('a fetch is traced piece by piece: the peer chosen, each request, each piece verified, done', async (t) => {
  const lines = debugLines(t, 'djcloud:swarm:torrent')
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 1024 * 1024, c.circleSecret)
  const [home, laptop] = await Promise.all([0, 1].map((i) => startSwarm(t, c, i, dir)))
  home!.offer(meta, path)
  await laptop!.connectDevice('127.0.0.1', home!.port)
  await laptop!.fetch(meta.sha256)
  const id = `[${hex(meta.infoHash).slice(0, 8)}]`
  const mine = lines.filter((l) => l.includes(id))
  t.true(mine.some((l) => /peer home \(127\.0\.0\.1:\d+\) added/.test(l)))
  t.true(mine.some((l) => /piece 0 requested from home/.test(l)))
  t.is(mine.filter((l) => / piece \d+ verified \(from home\)/.test(l)).length, meta.pieceCount)
  t.true(mine.some((l) => / done: /.test(l)))
})
