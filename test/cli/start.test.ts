// `djcloud start` (npm start): three real node processes on loopback, one
// circle, the library spread across them; the laptop lists the union with
// holders and fetches a track from both devices that hold it; stopping the
// demo leaves no process behind, and the next run finds the same circle.
import test, { type ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEMO_DEVICES, DEMO_TRACKS } from '../../src/demo/index.ts'
import { loadIdentity } from '../../src/identity/index.ts'
import { BIN } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

interface StartLine {
  laptop: string
  homes: Record<string, string>
  apis: Record<string, string>
  pids: Record<string, number>
}

interface Demo {
  child: ChildProcess
  line: StartLine
  exited: Promise<[number | null, NodeJS.Signals | null]>
  stderr: () => string
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const allGone = (pids: number[]) => until(async () => (pids.some(alive) ? undefined : true), 15_000, 50)

/** Runs `djcloud start --json`; teardown stops it and kills whatever is left. */
async function startDemo(t: ExecutionContext, root: string, args: string[] = []): Promise<Demo> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', '--home', root, '--api-port', '0', ...args], {
    env: { ...process.env, DJCLOUD_HOME: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  let pids: number[] = [child.pid!]
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))])
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })
  const text = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    void exited.then(([code]) => reject(new Error(`djcloud start exited with ${code}: ${err}`)))
  })
  const line = JSON.parse(text) as StartLine
  pids = Object.values(line.pids)
  return { child, line, exited, stderr: () => err }
}

interface TrackView {
  sha256: string
  size: number
  tags: { title?: string; bpm?: number; key?: string }
  holders: Array<{ name: string; online: boolean; self: boolean }>
  analysis?: { bpm: number; key: string }
}

test('npm start brings up three devices; the laptop lists the union with holders, fetches a track from both its holders, and SIGTERM stops every process', async (t) => {
  const root = await tempDir(t)
  const started = Date.now()
  const demo = await startDemo(t, root)
  t.log(`up and linked in ${Date.now() - started} ms (fresh circle, library generated)`)
  const { line } = demo
  t.deepEqual(Object.keys(line.homes).sort(), [...DEMO_DEVICES].sort())
  t.regex(line.laptop, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  t.is(line.laptop, `${line.apis.laptop}/`)
  t.is(Object.keys(line.pids).length, 4)
  for (const pid of Object.values(line.pids)) t.true(alive(pid))

  // Three homes of one circle: the laptop and phone hold member certificates from home-pc's owner.
  const ids = await Promise.all(DEMO_DEVICES.map((n) => loadIdentity(line.homes[n]!)))
  t.deepEqual(ids.map((i) => i.certificate.role), ['admin', 'member', 'member'])
  t.true(ids.every((i) => Buffer.from(i.certificate.owner).equals(ids[0]!.certificate.owner)))

  // The union on the laptop: every track, each with exactly the devices whose music holds it, all online.
  const r = await fetch(`${line.apis.laptop}/api/library?limit=1000`)
  t.is(r.status, 200)
  const { tracks } = (await r.json()) as { tracks: TrackView[] }
  t.is(tracks.length, DEMO_TRACKS.length)
  for (const d of DEMO_TRACKS) {
    const v = tracks.find((x) => x.tags.title === d.title)
    t.truthy(v, d.title)
    t.deepEqual(v!.holders.map((h) => h.name).sort(), [...d.holders].sort(), d.title)
    t.true(v!.holders.every((h) => h.online && h.self === (h.name === 'laptop')), d.title)
    t.is(v!.tags.bpm, d.bpm)
  }

  // Background analysis: every device analyses what it holds and shares the results, so the
  // laptop shows tempo and key for every track, also those it does not hold.
  const analysed = Date.now()
  const views = await until(async () => {
    const all = ((await (await fetch(`${line.apis.laptop}/api/library?limit=1000`)).json()) as { tracks: TrackView[] }).tracks
    return all.every((x) => x.analysis) ? all : undefined
  }, 120_000, 500)
  t.log(`every track analysed on the laptop's view ${Date.now() - analysed} ms after the demo was up`)
  for (const d of DEMO_TRACKS) {
    const a = views.find((x) => x.tags.title === d.title)!.analysis!
    t.true(Math.abs(a.bpm - d.bpm) < 0.5, `${d.title}: ${a.bpm}`)
    t.is(a.key, d.key, d.title)
  }

  // A track held only by home-pc and phone comes to the laptop from both (asked once the
  // devices' first analysis is over, as a person would press play: not in a race with it).
  // A whole fetch waits up to 1 s for every holder's wire; on a machine loaded by other
  // tests one holder can miss that and the other sends it all: a second such track is
  // tried then (both held by the same two devices), and a third is left for /stream.
  const pair = DEMO_TRACKS.filter((d) => d.holders.length === 2 && d.holders.includes('home-pc') && d.holders.includes('phone'))
  t.true(pair.length >= 3, 'the demo has three tracks held by home-pc and phone only')
  const token = (await readFile(join(line.homes.laptop!, 'api-token'), 'utf8')).trim()
  let fetched: { bytes: number; sources: Record<string, number>; path: string } | undefined
  let target: TrackView | undefined
  for (const wanted of pair.slice(0, 2)) {
    target = tracks.find((x) => x.tags.title === wanted.title)!
    t.false(target.holders.some((h) => h.name === 'laptop'))
    const f = await fetch(`${line.apis.laptop}/api/fetch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sha256: target.sha256 }),
    })
    t.is(f.status, 200)
    fetched = (await f.json()) as { bytes: number; sources: Record<string, number>; path: string }
    t.log(wanted.title, 'sources', fetched.sources)
    if (Object.keys(fetched.sources).length === 2) break
  }
  t.is(fetched!.bytes, target!.size)
  t.deepEqual(Object.keys(fetched!.sources).sort(), ['home-pc', 'phone'])
  t.true(Object.values(fetched!.sources).every((b) => b > 0))
  t.is(Object.values(fetched!.sources).reduce((a, b) => a + b, 0), target!.size)

  // Playing goes through /stream: another track only home-pc and phone hold plays on the laptop, whole and verified.
  const other = pair[2]!
  const played = tracks.find((x) => x.tags.title === other.title)!
  const stream = await fetch(`${line.apis.laptop}/stream/${played.sha256}`)
  t.is(stream.status, 200)
  t.is(createHash('sha256').update(Buffer.from(await stream.arrayBuffer())).digest('hex'), played.sha256)

  // SIGTERM: the demo stops all three nodes and exits 0; no process is left, no node.json either.
  demo.child.kill('SIGTERM')
  const [code] = await demo.exited
  t.is(code, 0, demo.stderr())
  await allGone(Object.values(line.pids))
  for (const home of Object.values(line.homes)) await t.throwsAsync(access(join(home, 'node.json')))
})

test('a second start reuses the circle and its library; a demo killed with SIGKILL leaves no node behind; a device that dies stops the demo', async (t) => {
  const root = await tempDir(t)
  const first = await startDemo(t, root, ['--no-analyze'])
  const ids = await Promise.all(DEMO_DEVICES.map(async (n) => Buffer.from((await loadIdentity(first.line.homes[n]!)).device.publicKey).toString('hex')))
  first.child.kill('SIGINT')
  t.is((await first.exited)[0], 0)
  await allGone(Object.values(first.line.pids))

  const second = await startDemo(t, root, ['--no-analyze'])
  t.deepEqual(second.line.homes, first.line.homes)
  const again = await Promise.all(DEMO_DEVICES.map(async (n) => Buffer.from((await loadIdentity(second.line.homes[n]!)).device.publicKey).toString('hex')))
  t.deepEqual(again, ids, 'the same devices, not a new circle')
  const r = (await (await fetch(`${second.line.apis.laptop}/api/library?limit=1000`)).json()) as { tracks: TrackView[] }
  t.is(r.tracks.length, DEMO_TRACKS.length)

  // The demo dies without a chance to stop its devices: each node notices and stops itself.
  second.child.kill('SIGKILL')
  await second.exited
  await allGone(Object.values(second.line.pids))
  t.false(Object.values(second.line.pids).some(alive))

  // A device that dies stops the demo: the others are stopped, exit 1 with the reason.
  const third = await startDemo(t, root, ['--no-analyze'])
  process.kill(third.line.pids.phone!, 'SIGKILL')
  t.is((await third.exited)[0], 1)
  t.regex(third.stderr(), /^djcloud start: phone stopped unexpectedly/m)
  await allGone(Object.values(third.line.pids))
})
