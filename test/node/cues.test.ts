// Cue points across real node processes, through the API: cues set on one
// device show on the other within seconds; cues set on both while apart merge
// when they meet (nothing lost, a hot slot taken twice settled the same way
// on both); the API refuses what it should.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, type NodeProcess } from '../helpers/node-process.ts'
import { runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { freePort } from '../helpers/ports.ts'
import { readApiToken } from '../../src/player/index.ts'
import type { Cue } from '../../src/library/index.ts'

const timings = { redial: 500 } // ms: devices redial often here; manifests travel as in production ("within seconds")

type Api = (method: string, path: string, body?: unknown, auth?: boolean) => Promise<Response>

async function api(n: NodeProcess, home: string): Promise<Api> {
  const token = (await readApiToken(home))!
  return (method, path, body, auth = true) =>
    fetch(n.info.api + path, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
}

const getCues = async (call: Api, audio: string) => ((await (await call('GET', `/api/cues/${audio}`)).json()) as { cues: Cue[] }).cues
async function putCues(call: Api, audio: string, cues: Cue[]): Promise<Cue[]> {
  const r = await call('PUT', `/api/cues/${audio}`, { cues })
  if (r.status !== 200) throw new Error(`PUT cues: ${r.status} ${await r.text()}`)
  return ((await r.json()) as { cues: Cue[] }).cues
}
const linked = (n: NodeProcess, name: string) => async () => {
  const { devices } = (await (await fetch(`${n.info.api}/api/devices`)).json()) as { devices: Array<{ name: string }> }
  return devices.some((d) => d.name === name) ? true : undefined
}
const showsOn = (call: () => Promise<Api>, audio: string, expected: Cue[]) => async () => {
  const got = await getCues(await call(), audio)
  return isDeepStrictEqual(got, expected) ? got : undefined
}

const hot = (id: string, slot: Cue['slot'], position: number, name?: string): Cue => ({ id, kind: 'hot', slot, position, ...(name ? { name } : {}) })
const memory = (id: string, position: number, name?: string): Cue => ({ id, kind: 'memory', position, ...(name ? { name } : {}) })

test('cues set on one device show on the other; cues set on both while apart merge when they meet', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'Alpha.wav'), { title: 'Alpha', artist: 'NATO' }, 1, 5)
  // home-pc comes back on the same ports after a restart, as a real device does.
  const homeArgs = ['--tracker-port', String(await freePort()), '--tracker-host', '127.0.0.1', '--port', String(await freePort()), '--dht-port', String(await freePort())]
  let h = await serveNode(t, home!, homeArgs, { timings })
  const lapArgs = ['--tracker', h.info.tracker!]
  let l = await serveNode(t, laptop!, lapArgs, { timings })
  let onHome = await api(h, home!)
  let onLaptop = await api(l, laptop!)
  await until(linked(l, 'home-pc'))
  const scanned = await runCli(['scan', music], { DJCLOUD_HOME: home! })
  t.is(scanned.code, 0, scanned.stderr)
  const { tracks } = (await (await onHome('GET', '/api/library')).json()) as { tracks: Array<{ audioHash: string }> }
  const audio = tracks[0]!.audioHash

  // Set on home-pc, shown on the laptop (which does not hold the file) within seconds.
  const first = [hot('drop-0001', 'A', 32.5, 'Drop'), memory('intro-001', 0.25)]
  t.deepEqual(await putCues(onHome, audio, first), [memory('intro-001', 0.25), hot('drop-0001', 'A', 32.5, 'Drop')])
  await until(showsOn(async () => onLaptop, audio, [memory('intro-001', 0.25), hot('drop-0001', 'A', 32.5, 'Drop')]), 10_000)
  // And back: the laptop renames the drop, home-pc sees it.
  const renamed = [memory('intro-001', 0.25), hot('drop-0001', 'A', 32.5, 'Big drop')]
  await putCues(onLaptop, audio, renamed)
  await until(showsOn(async () => onHome, audio, renamed), 10_000)

  // Apart. home-pc deletes the intro, adds a break and puts a cue on slot C.
  await l.stop()
  await putCues(onHome, audio, [hot('drop-0001', 'A', 32.5, 'Big drop'), memory('break-001', 60), hot('home-c-01', 'C', 90)])
  await h.stop()
  // The laptop, alone, renames the drop again, adds an outro, and later puts another cue on slot C.
  l = await serveNode(t, laptop!, lapArgs, { timings })
  onLaptop = await api(l, laptop!)
  t.deepEqual(await getCues(onLaptop, audio), renamed, 'the laptop remembers what it saw')
  await putCues(onLaptop, audio, [memory('intro-001', 0.25), hot('drop-0001', 'A', 32.5, 'Laptop drop'), memory('outro-001', 150)])
  await putCues(onLaptop, audio, [memory('intro-001', 0.25), hot('drop-0001', 'A', 32.5, 'Laptop drop'), memory('outro-001', 150), hot('lap-c-001', 'C', 120)])

  // They meet: the same merge on both, nothing lost. The laptop's later edits win the
  // drop's name and slot C (home-pc's cue there shows as a memory cue); home-pc's
  // deletion of the intro (an edit the laptop never saw undone) stands.
  h = await serveNode(t, home!, homeArgs, { timings })
  onHome = await api(h, home!)
  const expected = [hot('drop-0001', 'A', 32.5, 'Laptop drop'), memory('break-001', 60), memory('home-c-01', 90), hot('lap-c-001', 'C', 120), memory('outro-001', 150)]
  await until(showsOn(async () => onHome, audio, expected), 15_000)
  await until(showsOn(async () => onLaptop, audio, expected), 15_000)
  t.deepEqual(await getCues(onHome, audio), await getCues(onLaptop, audio))
})

test('the cue API refuses what it should: no token, bad hashes and bodies, unknown recordings', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'One.wav'), { title: 'One' }, 1, 2)
  const n = await serveNode(t, home!, ['--no-tracker'], { timings })
  const call = await api(n, home!)
  t.is((await runCli(['scan', music], { DJCLOUD_HOME: home! })).code, 0)
  const { tracks } = (await (await call('GET', '/api/library')).json()) as { tracks: Array<{ audioHash: string }> }
  const audio = tracks[0]!.audioHash
  const cue = hot('drop-0001', 'A', 1)
  t.is((await call('PUT', `/api/cues/${audio}`, { cues: [cue] }, false)).status, 401)
  t.deepEqual(await getCues(call, audio), [], 'refused writes change nothing')
  const codeOf = async (r: Response) => [r.status, ((await r.json()) as { error: { code: string; message: string } }).error] as const
  const [badHash, e1] = await codeOf(await call('GET', '/api/cues/nothex'))
  t.deepEqual([badHash, e1.code], [400, 'ERR_BAD_ID'])
  const [unknown, e2] = await codeOf(await call('PUT', `/api/cues/${'a'.repeat(64)}`, { cues: [cue] }))
  t.deepEqual([unknown, e2.code], [404, 'ERR_NOT_FOUND'])
  t.is((await call('GET', `/api/cues/${'a'.repeat(64)}`)).status, 404)
  for (const [body, message] of [
    [[cue], /\{"cues"/],
    [{ cues: 'x' }, /list/],
    [{ cues: [{ ...cue, slot: 'Z' }] }, /slot A-H/],
    [{ cues: [cue, { ...cue, id: 'drop-0002' }] }, /slot A is taken/],
    [{ cues: [{ ...cue, name: 'n'.repeat(65) }] }, /name/],
  ] as const) {
    const [status, e] = await codeOf(await call('PUT', `/api/cues/${audio}`, body))
    t.is(status, 400, JSON.stringify(body))
    t.is(e.code, 'ERR_BAD_PARAM')
    t.regex(e.message, message)
  }
  t.deepEqual(await putCues(call, audio, [cue]), [cue])
  t.deepEqual(await putCues(call, audio, []), [])
})

test('every recording\'s cues and notes read narrowed to some recordings (?audio=): only those named, the reads refused when malformed', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'One.wav'), { title: 'One' }, 1, 2)
  await writeTrack(join(music, 'Two.wav'), { title: 'Two' }, 2, 2)
  await writeTrack(join(music, 'Three.wav'), { title: 'Three' }, 3, 2)
  const n = await serveNode(t, home!, ['--no-tracker'], { timings })
  const call = await api(n, home!)
  t.is((await runCli(['scan', music], { DJCLOUD_HOME: home! })).code, 0)
  const { tracks } = (await (await call('GET', '/api/library')).json()) as { tracks: Array<{ audioHash: string }> }
  const [a, b, c] = tracks.map((x) => x.audioHash).sort() as [string, string, string]
  for (const [i, h] of [a, b, c].entries()) {
    await putCues(call, h, [hot(`cue-${i}-0001`, 'A', i + 1)])
    t.is((await call('PUT', `/api/notes/${h}`, { notes: { rating: i + 1 } })).status, 200)
  }
  const get = async (path: string) => {
    const r = await call('GET', path)
    return [r.status, (await r.json()) as Record<string, Record<string, unknown>>] as const
  }
  const unknown = 'f'.repeat(64)
  t.deepEqual(await get(`/api/cues?audio=${c},${a},${unknown},${a}`), [200, { cues: { [a]: [hot('cue-0-0001', 'A', 1)], [c]: [hot('cue-2-0001', 'A', 3)] } }], 'named recordings only; one not in the union is absent')
  t.deepEqual(await get(`/api/notes?audio=${b}`), [200, { notes: { [b]: { rating: 2 } } }])
  t.deepEqual(await get('/api/cues?audio='), [200, { cues: {} }])
  t.deepEqual(Object.keys((await get('/api/cues'))[1].cues!), [a, b, c], 'without ?audio= every recording')
  t.deepEqual(Object.keys((await get('/api/notes'))[1].notes!), [a, b, c])
  for (const [path, code] of [
    ['/api/cues?audio=nothex', 'ERR_BAD_ID'],
    [`/api/notes?audio=${a.toUpperCase()}`, 'ERR_BAD_ID'],
    [`/api/cues?audio=${a}&audio=${b}`, 'ERR_BAD_PARAM'],
    [`/api/cues?audio=${a}&sort=x`, 'ERR_BAD_PARAM'],
    [`/api/notes?audio=${Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(64, '0')).join(',')}`, 'ERR_BAD_PARAM'],
  ] as const) {
    const [status, body] = await get(path)
    t.deepEqual([status, body.error?.code], [400, code], path.slice(0, 60))
  }
})
