// Track notes across real node processes, through the API: notes set on one
// device (grid, rating, colour, comment, plays) show on the other within
// seconds, a field set on each side stays, a cleared field goes; the API
// refuses what it should.
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
import { readApiToken } from '../../src/player/index.ts'
import type { TrackNotes } from '../../src/library/index.ts'

const timings = { redial: 500 } // ms

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
const getNotes = async (call: Api, audio: string) => ((await (await call('GET', `/api/notes/${audio}`)).json()) as { notes: TrackNotes }).notes
async function putNotes(call: Api, audio: string, notes: unknown): Promise<TrackNotes> {
  const r = await call('PUT', `/api/notes/${audio}`, { notes })
  if (r.status !== 200) throw new Error(`PUT notes: ${r.status} ${await r.text()}`)
  return ((await r.json()) as { notes: TrackNotes }).notes
}
const shows = (call: Api, audio: string, expected: TrackNotes) => async () => {
  const got = await getNotes(call, audio)
  return isDeepStrictEqual(got, expected) ? got : undefined
}
const linked = (n: NodeProcess, name: string) => async () => {
  const { devices } = (await (await fetch(`${n.info.api}/api/devices`)).json()) as { devices: Array<{ name: string }> }
  return devices.some((d) => d.name === name) ? true : undefined
}

test('notes set on one device show on the other; fields set on each side stay; the API refuses what it should', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'Alpha.wav'), { title: 'Alpha', artist: 'NATO' }, 1, 5)
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  const onHome = await api(h, home!)
  const onLaptop = await api(l, laptop!)
  await until(linked(l, 'home-pc'))
  t.is((await runCli(['scan', music], { DJCLOUD_HOME: home! })).code, 0)
  const { tracks } = (await (await onHome('GET', '/api/library')).json()) as { tracks: Array<{ audioHash: string }> }
  const audio = tracks[0]!.audioHash

  t.deepEqual(await getNotes(onHome, audio), {})
  const grid = [{ position: 0.025, bpm: 139.999924, beat: 1 }, { position: 2.5, bpm: 128, beat: 3 }]
  const set = await putNotes(onHome, audio, { grid, rating: 4, color: '#FF007F', comment: 'peak\ttime', plays: 12 })
  t.deepEqual(set, { grid, rating: 4, color: '#ff007f', comment: 'peak\ttime', plays: 12 })
  await until(shows(onLaptop, audio, set), 10_000)
  // The laptop rates it 5 and clears the comment; home-pc sees both, its grid untouched.
  const after = await putNotes(onLaptop, audio, { rating: 5, comment: null })
  t.deepEqual(after, { grid, rating: 5, color: '#ff007f', plays: 12 })
  await until(shows(onHome, audio, after), 10_000)

  // Refusals.
  t.is((await onHome('PUT', `/api/notes/${audio}`, { notes: { rating: 1 } }, false)).status, 401)
  t.is((await onHome('GET', '/api/notes/xyz')).status, 400)
  t.is((await onHome('GET', `/api/notes/${'0'.repeat(64)}`)).status, 404)
  for (const bad of [{ rating: 9 }, { grid: [{ position: 0, bpm: 0 }] }, { tempo: 1 }, 'x']) {
    const r = await onHome('PUT', `/api/notes/${audio}`, { notes: bad })
    t.is(r.status, 400, JSON.stringify(bad))
    t.is(((await r.json()) as { error: { code: string } }).error.code, 'ERR_BAD_PARAM')
  }
  t.deepEqual(await getNotes(onHome, audio), after, 'refused changes changed nothing')
})
