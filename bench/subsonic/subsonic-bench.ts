// The subsonic benchmark (see bench/README.md): a laptop node serving the
// Subsonic API (`serve --subsonic`) over a 20,000-track union, an app signed
// in with credentials from `djcloud apps add`; browse and search answer
// times next to a static file server sending the same bytes; first byte of
// streams of tracks only the home PC holds (raw, next to a static file server
// of the same file; opus and mp3, next to ffmpeg run directly on the file);
// transcoding speed in multiples of real time per core, next to ffmpeg run
// directly with the same arguments on the same file. All in one run.
import { mkdir, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { readApiToken } from '../../src/player/index.ts'
import { ffmpegArgs, type TargetFormat } from '../../src/transcode/index.ts'
import { gitCommit, machineInfo, percentiles, round, type MachineInfo, type Percentiles } from '../common.ts'
import type { Service } from '../swarm/procs.ts'
import { djcloud, serveNode, type ServedNode } from '../djcloud-procs.ts'
import { flushToDisk } from '../scan/measure.ts'
import { childrenCpuSeconds, runFfmpeg, staticServer, timeDrain, timeFirstByte, timeWhole } from './http.ts'
import { makeBenchHomes, MP3_BYTES_PER_SECOND, writePlayedMp3s, type PlayedTrack } from './library.ts'
import { inWorkDir } from '../work-dir.ts'

export interface SubsonicBenchOptions {
  /** Synthetic tracks on each of the two offline devices. */
  tracks: number
  /** Timed requests of each browse/search kind. */
  samples: number
  /** Timed first bytes of each stream kind (raw, opus, mp3), each of a track not streamed before. */
  plays: number
  /** Full transcodes timed per format. */
  transcodes: number
  /** Browse requests timed right after the union changed (a track fetched into the laptop's cache). */
  rebuilds: number
  /** Seconds of each played track. */
  seconds: number
  tmp: string
  log: (line: string) => void
}

export const TARGETS = { apiP95Ms: 50, rawFirstByteP95Ms: 300, transcodedFirstByteP95Ms: 500 }

const FORMATS: TargetFormat[] = ['opus', 'mp3']
// The node's defaults (src/transcode/formats.ts), asked as maxBitRate too, as apps do: without a
// cap, format=mp3 of a 320 kbps MP3 is the original sent as it is.
const KBPS: Record<string, number> = { opus: 96, mp3: 128 }
const MIME: Record<string, string> = { opus: 'audio/ogg', mp3: 'audio/mpeg' }

interface Compared {
  djcloud: Percentiles
  yardstick: Percentiles
  ratioP95: number
}

export interface ApiFigure extends Compared {
  name: string
  query: string
  /** Bytes of the answer the yardstick sends (the first, untimed answer's). */
  bytes: number
  /** What it listed: artists, albums or songs in that answer. */
  items: number
  met: boolean
}

export interface SubsonicBenchResults {
  date: string
  machine: MachineInfo & { ffmpeg: string }
  commit: string | null
  /** os.loadavg() (1, 5, 15 min) at the start, once the nodes were up, and at the end: other work on the machine skews every figure. */
  loadAverage: { start: number[]; measuring: number[]; end: number[] }
  method: string[]
  union: { tracks: number; artists: number; albums: number; playedHeldBy: string }
  api: { figures: ApiFigure[]; worstP95: number; target: string; met: boolean }
  firstByte: {
    raw: Compared & { target: string; met: boolean }
    opus: Compared & { target: string; met: boolean }
    mp3: Compared & { target: string; met: boolean }
  }
  /**
   * getAlbumList2 type=newest size=50, the first request after the union changed (the laptop's cache
   * took in a track), next to the same request at once after it (the catalog built).
   */
  afterUnionChange: Compared & { target: string; met: boolean }
  transcoding: Record<string, {
    kbps: number
    audioSeconds: number
    runs: number
    /** Through the node: wall time of the whole answer, ffmpeg's CPU time. */
    djcloud: { wallMs: number; cpuMs: number; realtimePerCore: number; realtimeWall: number }
    yardstick: { wallMs: number; cpuMs: number; realtimePerCore: number; realtimeWall: number }
    cpuRatio: number
  }>
}

/** The API kinds timed: Subsonic endpoint and query (offsets may vary per sample). */
function apiKinds(): Array<{ name: string; query: (i: number) => string; count: (r: Record<string, any>) => number }> {
  const albums = (r: Record<string, any>) => r.albumList2?.album?.length ?? 0
  return [
    { name: 'getArtists', query: () => '', count: (r) => (r.artists?.index ?? []).reduce((n: number, x: any) => n + (x.artist?.length ?? 0), 0) },
    { name: 'getAlbumList2', query: () => 'type=newest&size=50', count: albums },
    { name: 'getAlbumList2', query: () => 'type=random&size=50', count: albums },
    { name: 'getAlbumList2', query: () => 'type=byGenre&genre=Techno&size=50', count: albums },
    { name: 'getAlbumList2', query: (i) => `type=alphabeticalByName&size=500&offset=${(i % 8) * 500}`, count: albums },
    { name: 'search3', query: () => 'query=night', count: (r) => (r.searchResult3?.song?.length ?? 0) + (r.searchResult3?.album?.length ?? 0) + (r.searchResult3?.artist?.length ?? 0) },
    { name: 'search3', query: () => `query=${encodeURIComponent('velvet artist 42')}`, count: (r) => (r.searchResult3?.song?.length ?? 0) + (r.searchResult3?.album?.length ?? 0) + (r.searchResult3?.artist?.length ?? 0) },
    { name: 'search3', query: (i) => `query=&artistCount=0&albumCount=0&songCount=500&songOffset=${(i % 8) * 500}`, count: (r) => r.searchResult3?.song?.length ?? 0 },
  ]
}

async function call<T>(base: string, token: string, path: string): Promise<T> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** The subsonic-response of a JSON answer, or an error with the server's. */
function subsonicBody(body: Buffer, what: string): Record<string, any> {
  const r = (JSON.parse(body.toString()) as { 'subsonic-response': Record<string, any> })['subsonic-response']
  if (r?.status !== 'ok') throw new Error(`${what}: ${JSON.stringify(r?.error ?? r)}`)
  return r
}

/** Until the laptop's union holds `want` tracks and every played one with home-pc online as a holder. */
async function untilUnion(base: string, token: string, want: number, played: Set<string>, log: (s: string) => void): Promise<number> {
  const end = Date.now() + 180_000
  for (;;) {
    const { fields, rows } = await call<{ fields: string[]; rows: unknown[][] }>(base, token, '/api/library?view=compact')
    const sha = fields.indexOf('sha256')
    const holders = fields.indexOf('holders')
    const ready = rows.filter((r) => played.has(r[sha] as string) && (r[holders] as Array<[string, number]>).some((h) => h[1] === 1))
    if (rows.length >= want && ready.length === played.size) return rows.length
    if (Date.now() > end) throw new Error(`the laptop's union reached ${rows.length} of ${want} tracks, ${ready.length} of ${played.size} played tracks with home-pc online`)
    log(`waiting for the union: ${rows.length} of ${want} tracks`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}

/** Until no source sends the laptop anything for its streams (the previous track's fetch ended), at most 15 s. */
async function settle(base: string, token: string): Promise<void> {
  const end = Date.now() + 15_000
  while (Date.now() < end) {
    const { streams } = await call<{ streams: Array<{ sources: Array<{ rate: number }> }> }>(base, token, '/api/streams')
    if (streams.every((s) => s.sources.every((x) => x.rate === 0))) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

function compared(dj: number[], yard: number[]): Compared {
  const d = percentiles(dj)
  const y = percentiles(yard)
  return { djcloud: d, yardstick: y, ratioP95: round(d.p95 / Math.max(y.p95, 0.1), 2) }
}

export function runSubsonicBench(opts: SubsonicBenchOptions): Promise<SubsonicBenchResults> {
  const loadStart = loadavg().map((v) => round(v, 2))
  return inWorkDir(opts.tmp, 'djcloud-bench-subsonic-', (work) => subsonicBench(opts, work, loadStart))
}

async function subsonicBench(opts: SubsonicBenchOptions, work: string, loadStart: number[]): Promise<SubsonicBenchResults> {
  const { log } = opts
  const services: Service<ServedNode>[] = []
  let yardServer: Server | undefined
  try {
    let t0 = performance.now()
    const { homePc, laptop } = await makeBenchHomes(join(work, 'homes'), opts.tracks)
    // One untimed play of each kind first, then `plays` timed; every play a track not streamed before.
    const perKind = opts.plays + 1
    const music = join(work, 'music')
    const played = await writePlayedMp3s(music, join(work, 'seed'), 3 * perKind + opts.rebuilds, opts.seconds)
    djcloud(homePc, ['scan', music])
    const app = JSON.parse(djcloud(laptop, ['apps', 'add', 'benchapp'])) as { name: string; apiKey: string }
    flushToDisk()
    log(`homes, ${2 * opts.tracks} synthetic tracks on two offline devices, ${played.length} MP3s of ${opts.seconds} s scanned on home-pc, app "${app.name}" added on the laptop: ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    t0 = performance.now()
    const admin = await serveNode('home-pc', homePc, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
    services.push(admin)
    const lap = await serveNode('laptop', laptop, ['--subsonic', '--tracker', admin.ready.tracker!, ...(admin.ready.bootstrap ? ['--bootstrap', admin.ready.bootstrap] : [])])
    services.push(lap)
    const base = lap.ready.api
    const adminToken = (await readApiToken(homePc))!
    const token = (await readApiToken(laptop))!
    const { tracks } = await call<{ tracks: Array<{ sha256: string; tags: { title?: string } }> }>(admin.ready.api, adminToken, '/api/library')
    const shaOf = new Map(tracks.map((t) => [t.tags.title, t.sha256]))
    const playedSha = played.map((p) => shaOf.get(p.title)!)
    if (playedSha.some((s) => !s)) throw new Error(`home-pc lists ${tracks.length} tracks, not every played one`)
    const unionSize = await untilUnion(base, token, 2 * opts.tracks + played.length, new Set(playedSha), log)
    log(`two nodes up, the laptop's union holds ${unionSize} tracks: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const loadMeasuring = loadavg().map((v) => round(v, 2))

    const rest = (name: string, query: string) => `${base}/rest/${name}?apiKey=${app.apiKey}&v=1.16.1&c=djcloud-bench&f=json${query ? `&${query}` : ''}`
    const yard = await staticServer()
    yardServer = yard.server
    const answers = join(work, 'answers')
    await mkdir(answers)

    // Browse and search: one untimed request of each kind (its answer is the yardstick's file), then turns.
    const kinds = apiKinds()
    const figures: ApiFigure[] = []
    let artists = 0
    let albums = 0
    for (const [k, kind] of kinds.entries()) {
      const first = await timeWhole(rest(kind.name, kind.query(0)))
      const r = subsonicBody(first.body, kind.name)
      if (kind.name === 'getArtists') artists = kind.count(r)
      const file = join(answers, `${k}.json`)
      await writeFile(file, first.body)
      const url = yard.add(`answer-${k}`, file, first.type)
      await timeWhole(url)
      const dj: number[] = []
      const plain: number[] = []
      for (let i = 1; i <= opts.samples; i++) {
        const a = await timeWhole(rest(kind.name, kind.query(i)))
        subsonicBody(a.body, kind.name)
        dj.push(a.ms)
        plain.push((await timeWhole(url)).ms)
      }
      const c = compared(dj, plain)
      figures.push({ name: kind.name, query: kind.query(0), bytes: first.body.length, items: kind.count(r), ...c, met: c.djcloud.p95 < TARGETS.apiP95Ms })
      log(`${kind.name} ${kind.query(0)}: ${first.body.length} bytes, ${kind.count(r)} items; p50 ${c.djcloud.p50} ms, p95 ${c.djcloud.p95} ms; static file p95 ${c.yardstick.p95} ms`)
    }
    {
      // Albums in the union: pages of alphabeticalByName until one comes short.
      for (let offset = 0; ; offset += 500) {
        const r = subsonicBody((await timeWhole(rest('getAlbumList2', `type=alphabeticalByName&size=500&offset=${offset}`))).body, 'getAlbumList2')
        const n = r.albumList2?.album?.length ?? 0
        albums += n
        if (n < 500) break
      }
    }

    // First bytes of streams of tracks only home-pc holds, each a track not streamed before.
    const firstBytes: Record<'raw' | 'opus' | 'mp3', { dj: number[]; yard: number[] }> = { raw: { dj: [], yard: [] }, opus: { dj: [], yard: [] }, mp3: { dj: [], yard: [] } }
    const kindsOfPlay = ['raw', 'opus', 'mp3'] as const
    for (let i = 0; i < perKind; i++) {
      for (const [k, kind] of kindsOfPlay.entries()) {
        const n = k * perKind + i
        const track: PlayedTrack = played[n]!
        await settle(base, token)
        const query = `id=${playedSha[n]}${kind === 'raw' ? '' : `&format=${kind}&maxBitRate=${KBPS[kind]}`}`
        const dj = await timeFirstByte(rest('stream', query), kind === 'raw' ? undefined : MIME[kind])
        const plain = kind === 'raw'
          ? await timeFirstByte(yard.add(`file-${n}`, track.path, 'audio/mpeg'))
          : (await runFfmpeg(track.path, ffmpegArgs({ format: kind, kbps: KBPS[kind]! }), { firstByteOnly: true })).firstByteMs
        if (i === 0) continue // the untimed first of each kind
        firstBytes[kind].dj.push(dj)
        firstBytes[kind].yard.push(plain)
      }
      if (i > 0) log(`play ${i}/${opts.plays}: first byte raw ${firstBytes.raw.dj.at(-1)!.toFixed(0)} ms (static ${firstBytes.raw.yard.at(-1)!.toFixed(1)}), opus ${firstBytes.opus.dj.at(-1)!.toFixed(0)} ms (ffmpeg ${firstBytes.opus.yard.at(-1)!.toFixed(0)}), mp3 ${firstBytes.mp3.dj.at(-1)!.toFixed(0)} ms (ffmpeg ${firstBytes.mp3.yard.at(-1)!.toFixed(0)})`)
    }
    await settle(base, token)
    const fb = (kind: 'raw' | 'opus' | 'mp3', target: number) => {
      const c = compared(firstBytes[kind].dj, firstBytes[kind].yard)
      return { ...c, target: `p95 < ${target} ms`, met: c.djcloud.p95 < target }
    }

    // Browsing right after the union changed: a fresh track fetched whole into the laptop's cache
    // (untimed), then the first browse request (timed), then the same at once (the catalog built).
    const afterChange = { dj: [] as number[], yard: [] as number[] }
    for (let i = 0; i < opts.rebuilds; i++) {
      const sha = playedSha[3 * perKind + i]!
      await timeDrain(rest('stream', `id=${sha}`), '')
      const end = Date.now() + 30_000
      for (;;) {
        const { tracks: cached } = await call<{ tracks: Array<{ sha256: string } | string> }>(base, token, '/api/cache')
        if (cached.some((t) => (typeof t === 'string' ? t : t.sha256) === sha)) break
        if (Date.now() > end) throw new Error(`the laptop's cache did not take in ${sha} within 30 s`)
        await new Promise((r) => setTimeout(r, 100))
      }
      await settle(base, token)
      const url = rest('getAlbumList2', 'type=newest&size=50')
      const cold = await timeWhole(url)
      subsonicBody(cold.body, 'getAlbumList2')
      afterChange.dj.push(cold.ms)
      afterChange.yard.push((await timeWhole(url)).ms)
      log(`after a union change ${i + 1}/${opts.rebuilds}: getAlbumList2 newest ${cold.ms.toFixed(0)} ms, then ${afterChange.yard.at(-1)!.toFixed(1)} ms`)
    }
    const afterUnion = compared(afterChange.dj, afterChange.yard)

    // Transcoding speed: whole renditions of tracks streamed raw above (their fetch ended: settled),
    // never transcoded (no cached rendition); ffmpeg's CPU time from the laptop's reaped children.
    const transcoding: SubsonicBenchResults['transcoding'] = {}
    const audioSeconds = (t: PlayedTrack) => t.bytes / MP3_BYTES_PER_SECOND // the tag is ~100 bytes of it
    for (const format of FORMATS) {
      const dj = { wall: 0, cpu: 0, audio: 0 }
      const ys = { wall: 0, cpu: 0, audio: 0 }
      for (let i = 0; i < opts.transcodes; i++) {
        const n = 1 + i + (format === 'mp3' ? opts.transcodes : 0) // raw-played tracks (index 0 was the untimed one)
        const track = played[n]!
        const cpu0 = childrenCpuSeconds(lap.ready.pid)
        const whole = await timeDrain(rest('stream', `id=${playedSha[n]}&format=${format}&maxBitRate=${KBPS[format]}`), MIME[format]!)
        // The node reaps ffmpeg when it exits, moments after the last byte: wait for its CPU time to land.
        let cpu = 0
        for (let w = 0; w < 50 && cpu === 0; w++) {
          cpu = childrenCpuSeconds(lap.ready.pid) - cpu0
          if (cpu === 0) await new Promise((r) => setTimeout(r, 20))
        }
        if (cpu === 0) throw new Error(`no CPU time of the laptop's ffmpeg for ${format}`)
        dj.wall += whole.ms
        dj.cpu += cpu * 1000
        dj.audio += audioSeconds(track)
        const direct = await runFfmpeg(track.path, ffmpegArgs({ format, kbps: KBPS[format]! }))
        ys.wall += direct.ms
        ys.cpu += direct.cpuS * 1000
        ys.audio += audioSeconds(track)
        log(`transcode ${format} ${i + 1}/${opts.transcodes}: djcloud ${whole.ms.toFixed(0)} ms, ffmpeg CPU ${(cpu * 1000).toFixed(0)} ms; ffmpeg directly ${direct.ms.toFixed(0)} ms, CPU ${(direct.cpuS * 1000).toFixed(0)} ms`)
      }
      const side = (s: typeof dj) => ({
        wallMs: round(s.wall / opts.transcodes),
        cpuMs: round(s.cpu / opts.transcodes),
        realtimePerCore: round(s.audio / (s.cpu / 1000), 1),
        realtimeWall: round(s.audio / (s.wall / 1000), 1),
      })
      transcoding[format] = { kbps: KBPS[format]!, audioSeconds: round(dj.audio / opts.transcodes, 1), runs: opts.transcodes, djcloud: side(dj), yardstick: side(ys), cpuRatio: round(dj.cpu / ys.cpu, 2) }
    }

    const worstP95 = Math.max(...figures.map((f) => f.djcloud.p95))
    const ffmpegVersion = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.replace(/ Copyright.*/, '').trim()
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: { ...machineInfo(), ffmpeg: ffmpegVersion },
      commit: gitCommit(['src', 'bench/subsonic']).commit,
      loadAverage: { start: loadStart, measuring: loadMeasuring, end: loadavg().map((v) => round(v, 2)) },
      method: [
        `homes: home-pc (admin: tracker, DHT bootstrap) and the laptop, two \`djcloud serve\` processes on 127.0.0.1 with background analysis off, the laptop with --subsonic; two offline own devices whose signed library manifests (${opts.tracks} synthetic tracks each, bench/manifest/tracks.ts) the laptop took in before starting; the app's credentials from \`djcloud apps add benchapp\` on the laptop's home, every request signed with its API key (apiKey=, f=json)`,
        `played: ${played.length} distinct ${opts.seconds} s MP3s (320 kbps CBR, 44.1 kHz stereo, cut from one synthesised seed; distinct tags and audio bytes) scanned by home-pc only; the laptop holds none of them until it streams them`,
        `browse and search: per kind one untimed request, then ${opts.samples} timed, each from fetch() to the last body byte, taking turns with the yardstick; yardstick: a node:http static file server in the bench process sending that kind's first answer (the same bytes, read from disk on every request, Content-Length) over the same loopback with the same client`,
        `first byte: for each kind (raw; format=opus&maxBitRate=${KBPS.opus}; format=mp3&maxBitRate=${KBPS.mp3}, the node's default bitrates) one untimed stream, then ${opts.plays} timed, each of a track no one had streamed before and only home-pc holds; from fetch() of /rest/stream to the first body byte, then the request is dropped; before each, until no source is sending the laptop anything (the previous fetch ended). Yardstick for raw: the static file server sending the same file; for opus and mp3: ffmpeg run directly on the same file, piped in from disk, with the node's arguments (src/transcode ffmpegArgs), spawn to first output byte`,
        `transcoding speed: ${opts.transcodes} whole renditions per format (distinct tracks) of tracks streamed raw in the first-byte part, whose fetch had ended, never transcoded before (no cached rendition), read to the end through /rest/stream; CPU time = the laptop process's cutime + cstime (/proc/<pid>/stat: CPU time of its children that exited, i.e. that ffmpeg, all its threads) before and after; multiple of real time per core = seconds of audio / ffmpeg CPU seconds. Yardstick: ffmpeg run directly on the same file with the same arguments, the bench process's cutime + cstime before and after`,
        `browse after a union change: ${opts.rebuilds} times, a track not streamed before fetched whole through /rest/stream (untimed) until the laptop's cache lists it and no source is sending, then getAlbumList2 type=newest size=50 timed (the first Subsonic request since the union changed), and the same request again at once (the "yardstick": the catalog already built)`,
        'percentiles: nearest rank (p95 of 20 is the 19th smallest); ratios are djcloud / yardstick',
      ],
      union: { tracks: unionSize, artists, albums, playedHeldBy: 'home-pc' },
      api: { figures, worstP95, target: `p95 < ${TARGETS.apiP95Ms} ms each`, met: figures.every((f) => f.met) },
      firstByte: { raw: fb('raw', TARGETS.rawFirstByteP95Ms), opus: fb('opus', TARGETS.transcodedFirstByteP95Ms), mp3: fb('mp3', TARGETS.transcodedFirstByteP95Ms) },
      afterUnionChange: { ...afterUnion, target: `p95 < ${TARGETS.apiP95Ms} ms`, met: afterUnion.djcloud.p95 < TARGETS.apiP95Ms },
      transcoding,
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()))
    yardServer?.close()
  }
}
