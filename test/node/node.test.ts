import test from 'ava'
import { copyFile, mkdir, readFile, access } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { get as httpsGet } from 'node:https'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCli } from '../helpers/cli.ts'

/** The counts of the tracker behind an https:// announce URL (any certificate: counts are public). */
function trackerStats(announceUrl: string): Promise<{ admitted: number; swarms: number }> {
  return new Promise((resolve, reject) => {
    httpsGet(new URL('/stats.json', announceUrl), { rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())))
    }).on('error', reject)
  })
}

async function until<T>(fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('three devices meet through the circle tracker; get and /stream fetch from other devices; the tracker going down cuts nothing', async (t) => {
  const root = await tempDir(t)
  const [home, phone, laptop] = await makeHomes(root, ['home-pc', 'phone', 'laptop'])
  const music = { home: join(root, 'm-home'), phone: join(root, 'm-phone') }
  await mkdir(music.home)
  await mkdir(music.phone)
  const shared = await writeTrack(join(music.home, 'shared.wav'), { title: 'Shared', artist: 'Both' }, 1, 600)
  await copyFile(shared, join(music.phone, 'shared.wav'))
  const onlyHome = await writeTrack(join(music.home, 'home-only.wav'), { title: 'Home Only' }, 2, 30)
  const untouched = await writeTrack(join(music.home, 'home-only-2.wav'), { title: 'Never Played' }, 4, 5)
  const onlyPhone = await writeTrack(join(music.phone, 'phone-only.wav'), { title: 'Phone Only' }, 3, 30)
  await scanHome(home!, music.home)
  await scanHome(phone!, music.phone)
  const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex')

  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  t.truthy(h.info.tracker)
  t.regex(h.info.tracker!, /^https:\/\/127\.0\.0\.1:\d+\/announce$/)
  const p = await serveNode(t, phone!, ['--tracker', h.info.tracker!])
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!])

  const token = (await readApiToken(laptop!))!
  const api = (path: string, init: RequestInit = {}) =>
    fetch(l.info.api + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } })
  let last: unknown
  const names = await until(async () => {
    const { devices } = (await (await api('/api/devices')).json()) as { devices: Array<{ name: string }> }
    last = devices
    const n = devices.map((d) => d.name).sort()
    return n.includes('home-pc') && n.includes('phone') ? n : undefined
  }).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(last)}\nHOME ${h.stderr()}\nPHONE ${p.stderr()}\nLAPTOP ${l.stderr()}`)
  })
  t.deepEqual([...new Set(names)], ['home-pc', 'phone'])
  // They met through the tracker: its key is the home PC's device key, which their rosters pin.
  const stats = await until(async () => {
    const s = await trackerStats(h.info.tracker!)
    return s.admitted >= 3 ? s : undefined
  })
  t.is(stats.swarms, 1, 'one device channel')

  // get: a track held by two devices comes from both and verifies
  const out = join(root, 'got.wav')
  const got = await runCli(['get', await sha(shared), '-o', out, '--json'], { DJCLOUD_HOME: laptop! })
  t.is(got.code, 0, got.stderr + '\nLAPTOP\n' + l.stderr() + `\nexit ${l.child.exitCode}`)
  const r = JSON.parse(got.stdout)
  t.deepEqual(Object.keys(r.sources).sort(), ['home-pc', 'phone'], JSON.stringify(r) + '\nHOME\n' + h.stderr() + '\nLAPTOP\n' + l.stderr())
  t.is(await sha(out), await sha(shared))

  // /stream: a range in the middle of a track that lives only on the home PC
  const bytes = await readFile(onlyHome)
  const res = await api(`/stream/${await sha(onlyHome)}`, { headers: { range: 'bytes=100000-199999' } })
  t.is(res.status, 206)
  t.is(res.headers.get('content-range'), `bytes 100000-199999/${bytes.length}`)
  t.true(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(100000, 200000)))

  // commands for a home with a running node go through it: ls shows the union library
  const phoneSha = await sha(onlyPhone)
  type Listed = Array<{ sha256: string; holders: Array<{ name: string }> }>
  const listed = await until(async () => {
    const ls = await runCli(['ls', '--json'], { DJCLOUD_HOME: home! })
    const l = JSON.parse(ls.stdout) as Listed
    return l.length === 4 ? l : undefined
  })
  t.deepEqual(listed.find((x) => x.sha256 === phoneSha)!.holders.map((x) => x.name), ['phone'])

  // the tracker (on the home PC) goes away: the laptop still reaches the phone
  t.is(await h.stop('SIGTERM'), 0)
  await t.throwsAsync(access(join(home!, 'node.json')))
  const later = await runCli(['get', await sha(onlyPhone), '--json'], { DJCLOUD_HOME: laptop! })
  t.is(later.code, 0, later.stderr)
  t.deepEqual(Object.keys(JSON.parse(later.stdout).sources), ['phone'])

  // the track streamed from the home PC was prefetched whole: it is cached here now
  const cached = await runCli(['get', await sha(onlyHome), '--json'], { DJCLOUD_HOME: laptop! })
  t.is(cached.code, 0, cached.stderr)
  // but nobody online holds the home PC's other track
  const gone = await runCli(['get', await sha(untouched)], { DJCLOUD_HOME: laptop! })
  t.is(gone.code, 1)
  t.regex(gone.stderr, /no online own device holds/)
  t.is(await p.stop(), 0)
  t.is(await l.stop(), 0)
})
