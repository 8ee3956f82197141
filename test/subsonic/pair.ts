// Two own devices as in-process nodes on 127.0.0.1: home-pc holds the music,
// both serve Subsonic (the tests ask the laptop, which holds one track of its own). An app is
// issued on the laptop's home; clients sign in with it.
import type { ExecutionContext } from 'ava'
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import SubsonicAPI from 'subsonic-api'
import { startNode, type Node, type NodeOptions } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { addApp, type AppCredential } from '../../src/subsonic/index.ts'
import { apicFrame, fixtureDir, id3v23Frame, id3v23FramesFor, id3v23Tag, makeMp3, replaceId3, type FixtureTags } from '../helpers/audio-fixtures.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const run = promisify(execFile)

export interface Pair {
  root: string
  home: Node
  laptop: Node
  app: AppCredential
  api: (n: Node, path: string, init?: RequestInit) => Promise<Response>
  client: (mode?: 'token' | 'post' | 'apiKey', app?: AppCredential, node?: Node) => SubsonicAPI
  /** /rest/<name> on the laptop with token auth, as a raw fetch (XML unless f is given). */
  rest: (name: string, params?: Record<string, string | string[]>, init?: RequestInit, app?: AppCredential) => Promise<Response>
}

export const LYRICS = 'first line\nsecond line'
export const NIGHT: FixtureTags = { title: 'Night Drive', artist: 'Kavinsky', album: 'Outrun', genre: 'Synthwave', year: 2013, track: 1 }

/** A JPEG made by ffmpeg (a real picture, so resizing works). */
export async function jpeg(dir: string, size: number): Promise<Buffer> {
  const out = join(dir, `cover-${size}.jpg`)
  await run('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=red:s=${size}x${size}`, '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2', out])
  const { readFile } = await import('node:fs/promises')
  return readFile(out)
}

function usltFrame(text: string): Buffer {
  return id3v23Frame('USLT', Buffer.concat([Buffer.from([0]), Buffer.from('eng', 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]))
}

export async function subsonicPair(t: ExecutionContext, laptopOpts: Partial<NodeOptions> = {}): Promise<Pair> {
  const root = await tempDir(t)
  const [homeDir, laptopDir] = await makeHomes(root, ['home-pc', 'laptop'])
  const common = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: { port: 0, host: '127.0.0.1' }, analyze: false, uiDir: null }
  const home = await startNode({ ...common, home: homeDir!, tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }, subsonic: true })
  t.teardown(() => home.close())
  const laptop = await startNode({ ...common, home: laptopDir!, tracker: false, trackers: [home.info.tracker!], subsonic: true, ...laptopOpts })
  t.teardown(() => laptop.close())
  const tokens = new Map<Node, string>([[home, (await readApiToken(home.home))!], [laptop, (await readApiToken(laptop.home))!]])
  const api = (n: Node, path: string, init: RequestInit = {}) =>
    fetch(n.info.api + path, { ...init, headers: { authorization: `Bearer ${tokens.get(n)}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } })
  await until(async () => (laptop.swarm.devices.online().some((l) => l.name === 'home-pc') ? true : undefined))

  // home-pc: an MP3 with a cover and lyrics, and a WAV of the same album; the laptop: one WAV.
  const fx = await fixtureDir(t)
  const mp3 = await makeMp3(fx, { name: 'night.mp3', seconds: 20, tags: NIGHT, bitrate: '192k' })
  await replaceId3(mp3, id3v23Tag([...id3v23FramesFor(NIGHT), apicFrame(await jpeg(fx, 64)), usltFrame(LYRICS)]))
  const music = join(root, 'music')
  await mkdir(music)
  const { rename } = await import('node:fs/promises')
  await rename(mp3, join(music, 'night.mp3'))
  await writeTrack(join(music, 'second.wav'), { title: 'Second', artist: 'Kavinsky', album: 'Outrun', genre: 'Synthwave', year: 2013, track: 2 }, 5, 3)
  await scan(api, home, music)
  const mine = join(root, 'mine')
  await mkdir(mine)
  await writeTrack(join(mine, 'own.wav'), { title: 'Own Tune', artist: 'Test', album: 'Laptop Songs', genre: 'House', year: 1999 }, 9, 2)
  await scan(api, laptop, mine)
  // The laptop's union lists home-pc's tracks.
  await until(async () => {
    const { rows } = (await (await api(laptop, '/api/library?view=compact')).json()) as { rows: unknown[] }
    return rows.length === 3 ? true : undefined
  })

  const app = await addApp(laptop.home, 'phone')
  const client = (mode: 'token' | 'post' | 'apiKey' = 'token', a = app, n = laptop) =>
    new SubsonicAPI({
      url: n.info.api,
      auth: mode === 'apiKey' ? { apiKey: a.apiKey } : { username: a.name, password: a.password },
      ...(mode === 'post' ? { post: true } : {}),
    })
  const rest = async (name: string, params: Record<string, string | string[]> = {}, init: RequestInit = {}, a = app) => {
    const { createHash } = await import('node:crypto')
    const q = new URLSearchParams({ u: a.name, s: 'salt123', t: createHash('md5').update(a.password + 'salt123').digest('hex'), v: '1.16.1', c: 'test' })
    for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) q.append(k, x)
    return fetch(`${laptop.info.api}/rest/${name}?${q}`, init)
  }
  return { root, home, laptop, app, api, client, rest }
}

async function scan(api: Pair['api'], n: Node, dir: string): Promise<void> {
  const r = await api(n, '/api/scan', { method: 'POST', body: JSON.stringify({ roots: [dir] }) })
  if (r.status !== 200) throw new Error(`scan: ${r.status} ${await r.text()}`)
}

/** Duration (s) and bit rate (bit/s) of a file as ffprobe reads them. */
export async function probe(path: string): Promise<{ duration: number; bitRate: number; codec: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration,bit_rate:stream=codec_name', '-of', 'json', path])
  const j = JSON.parse(stdout) as { format: { duration: string; bit_rate: string }; streams: Array<{ codec_name: string }> }
  return { duration: Number(j.format.duration), bitRate: Number(j.format.bit_rate), codec: j.streams[0]!.codec_name }
}
