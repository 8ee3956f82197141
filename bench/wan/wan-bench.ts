// The WAN benchmark (bench/README.md, "bench/wan"): in a WAN lab of network
// namespaces (docs/wan-lab.md) with a fixed round trip and random loss, three
// seeders behind capped uplinks serve one large track to a receiver, as real
// `djcloud serve` processes and then as libtorrent peers in the same
// namespaces with the same caps; raw TCP over the same links says what the
// links carry. Then first-byte latency at the same round trip: cold (the
// receiver's node just started, so links and handshakes are part of it),
// warm (links up, a track not fetched yet) and a seek into such a track.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { link, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeHomes, writeNoiseWav } from '../../src/demo/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'
import { gitCommit, machineInfo, percentiles, round } from '../common.ts'
import { djcloud } from '../djcloud-procs.ts'
import { PYTHON, libtorrentVersion } from '../swarm/swarm-bench.ts'
import { createLab, labUnavailable, payloadMbit, type Lab } from '../../test/helpers/wan-lab/index.ts'
import { devicesLinked, startAdmin, startMember, type CircleServers, type LabDevice } from '../../test/helpers/lab-devices.ts'
import type { WanBenchResults } from './report.ts'

export interface WanBenchOptions {
  /** Bytes of the big track. */
  size: number
  seeders: number
  uplinkMbit: number
  receiverMbit: number
  rttMs: number
  lossPercent: number
  /** Latency samples of each kind. */
  samples: number
  /** Seconds of the raw TCP reference. */
  tcpSeconds: number
  /** Congestion control to select in every host (default: the kernel's default). */
  cc?: string
  yardstick: boolean
  tmp: string
  log: (line: string) => void
}

export const TARGETS = { ofCapacity: 0.9, ofLibtorrent: 1.0, coldP95Ms: 1_000, warmP95Ms: 300, seekP95Ms: 300 }
// create-torrent ships no type declarations: loaded through a string so the strict type check asks for none.
type CreateTorrent = (input: string, opts: Record<string, unknown>, cb: (err: Error | null, torrent: Uint8Array) => void) => void
const CREATE_TORRENT: string = 'create-torrent'
const LT_PEER = fileURLToPath(new URL('../swarm/libtorrent_peer.py', import.meta.url))
const PROBE = fileURLToPath(new URL('../../test/helpers/wan-lab/probe.mjs', import.meta.url))
const LATENCY_TRACK = 1_000_000 // bytes of each latency track (~5.7 s of CD audio)
const timings = { redial: 1_000, manifestPoll: 5_000 } // ms
const MEASURED_PATHS = ['src', 'bench/wan', 'bench/swarm/libtorrent_peer.py', 'test/helpers/wan-lab', 'test/helpers/lab-devices.ts']

const seederNames = (n: number) => Array.from({ length: n }, (_, i) => `s${i + 1}`)
const mbit = (bytes: number, ms: number) => (bytes * 8) / (ms * 1000)

export async function runWanBench(opts: WanBenchOptions): Promise<WanBenchResults> {
  const why = labUnavailable()
  if (why) throw new Error(why)
  const work = await mkdtemp(join(opts.tmp, 'djcloud-bench-wan-'))
  const seeders = seederNames(opts.seeders)
  let lab: Lab | null = null
  try {
    opts.log(`writing the ${opts.size / 1e6} MB track and ${3 * opts.samples} latency tracks`)
    const music = join(work, 'music')
    await mkdir(music)
    const big = join(music, 'big.wav')
    await writeNoiseWav(big, opts.size, 1)
    const latency = Array.from({ length: 3 * opts.samples }, (_, i) => join(music, `l${i}.wav`))
    for (const [i, f] of latency.entries()) await writeNoiseWav(f, LATENCY_TRACK, 100 + i)
    const homes = await makeHomes(join(work, 'homes'), ['hub', 'receiver', ...seeders])
    for (const h of homes.slice(2)) {
      const m = join(h, 'music')
      await mkdir(m)
      for (const f of [big, ...latency]) await link(f, join(m, f.split('/').pop()!))
      opts.log(`scanning ${h.split('/').pop()}`)
      djcloud(h, ['scan', m])
    }

    const hosts = [{ name: 'hub', uplinkMbit: opts.receiverMbit }, { name: 'receiver', uplinkMbit: opts.receiverMbit }, ...seeders.map((name) => ({ name, uplinkMbit: opts.uplinkMbit }))]
    lab = await createLab({ hosts, rttMs: opts.rttMs, lossPercent: opts.lossPercent })
    const cc = await congestionControl(lab, opts.cc)
    opts.log(`lab ${lab.id}: ${opts.seeders} x ${opts.uplinkMbit} Mbit/s -> ${opts.receiverMbit} Mbit/s, ${opts.rttMs} ms RTT, ${opts.lossPercent}% loss, ${cc.used}`)

    // What TCP itself carries here: one flow per seeder to the receiver.
    const tcp = await rawTcp(lab, seeders, opts.tcpSeconds)
    opts.log(`raw TCP: ${round(tcp.totalMbit, 2)} Mbit/s (${tcp.perFlowMbit.map((v) => round(v, 2)).join(', ')})`)

    // djcloud: a hub (the admin: tracker, DHT bootstrap), the seeders, the receiver.
    const { servers } = await startAdmin(lab, 'hub', homes[0]!, { timings })
    const seedNodes = await Promise.all(seeders.map((s, i) => startMember(lab!, s, homes[i + 2]!, servers, { timings })))
    let receiver = await startMember(lab, 'receiver', homes[1]!, servers, { timings })
    await waitLinked(receiver, seeders)
    const tracks = await libraryOf(receiver, 1 + latency.length, seeders.length)
    const bigSha = tracks.get('Noise 1')!
    opts.log('djcloud: fetching the big track')
    const fetched = await receiver.call<{ ms: number; bytes: number; sources: Record<string, number> }>('POST', '/api/fetch', { sha256: bigSha })
    if (fetched.status !== 200) throw new Error(`fetch: ${fetched.status} ${JSON.stringify(fetched.json)}`)
    const djcloudMbit = mbit(fetched.json.bytes, fetched.json.ms)
    opts.log(`djcloud: ${round(djcloudMbit, 2)} Mbit/s in ${round(fetched.json.ms / 1000, 1)} s`)

    // Latency: each sample a latency track not fetched before.
    const unfetched = latency.map((_, i) => tracks.get(`Noise ${100 + i}`)!)
    const warm: number[] = []
    const seek: number[] = []
    const cold: number[] = []
    for (let i = 0; i < opts.samples; i++) warm.push(await firstByte(receiver, unfetched.shift()!))
    opts.log(`warm first byte: ${warm.map((v) => round(v)).join(' ')}`)
    for (let i = 0; i < opts.samples; i++) seek.push(await firstByte(receiver, unfetched.shift()!, Math.floor(LATENCY_TRACK * 0.6)))
    opts.log(`seek first byte: ${seek.map((v) => round(v)).join(' ')}`)
    for (let i = 0; i < opts.samples; i++) {
      // The receiver's node starts again: no links; the request goes out as soon as its API answers.
      await receiver.stop()
      receiver = await startMember(lab, 'receiver', homes[1]!, servers, { timings })
      cold.push(await firstByte(receiver, unfetched.shift()!))
    }
    opts.log(`cold first byte: ${cold.map((v) => round(v)).join(' ')}`)
    await receiver.stop()
    await Promise.all(seedNodes.map((n) => n.stop()))

    // libtorrent in the same namespaces, with the same caps.
    let lt: WanBenchResults['throughput']['libtorrent'] = null
    if (opts.yardstick) {
      opts.log('libtorrent: fetching the big track')
      lt = await libtorrentFetch(lab, work, big, seeders, opts)
      opts.log(`libtorrent: ${round(lt.mbit, 2)} Mbit/s`)
    }

    const capacity = opts.seeders * payloadMbit(opts.uplinkMbit)
    return {
      date: new Date().toISOString(),
      ...gitCommit(MEASURED_PATHS),
      machine: machineInfo(),
      libtorrent: opts.yardstick ? libtorrentVersion() : null,
      lab: { seeders: opts.seeders, uplinkMbit: opts.uplinkMbit, receiverMbit: opts.receiverMbit, rttMs: opts.rttMs, lossPercent: opts.lossPercent, trackBytes: opts.size },
      congestionControl: cc,
      targets: TARGETS,
      throughput: {
        capacityMbit: round(capacity, 2),
        rawTcpMbit: round(tcp.totalMbit, 2),
        djcloud: { mbit: round(djcloudMbit, 2), ms: round(fetched.json.ms), sources: fetched.json.sources },
        libtorrent: lt && { mbit: round(lt.mbit, 2), ms: round(lt.ms) },
        ofCapacity: round(djcloudMbit / capacity, 3),
        ofRawTcp: round(djcloudMbit / tcp.totalMbit, 3),
        ofLibtorrent: lt ? round(djcloudMbit / lt.mbit, 3) : null,
        libtorrentOfCapacity: lt ? round(lt.mbit / capacity, 3) : null,
      },
      firstByte: { cold: percentiles(cold), warm: percentiles(warm), seek: percentiles(seek) },
    }
  } finally {
    await lab?.destroy()
    await rm(work, { recursive: true, force: true })
  }
}


/** The congestion control the hosts use (selected first when asked), and whether CUBIC can be selected in a namespace here. */
async function congestionControl(lab: Lab, want?: string): Promise<WanBenchResults['congestionControl']> {
  const sysctl = (host: string, ...a: string[]) => lab.host(host).run('sysctl', a)
  if (want) {
    for (const h of lab.hosts) {
      const r = await sysctl(h.name, '-w', `net.ipv4.tcp_congestion_control=${want}`)
      if (r.code !== 0) throw new Error(`cannot select ${want} in ${h.name}: ${r.stderr.trim()}`)
    }
  }
  const used = (await sysctl(lab.hosts[0]!.name, '-n', 'net.ipv4.tcp_congestion_control')).stdout.trim()
  // Try CUBIC in one host and put back what was there.
  const probe = lab.hosts[0]!.name
  const tried = await sysctl(probe, '-w', 'net.ipv4.tcp_congestion_control=cubic')
  if (tried.code === 0) await sysctl(probe, '-w', `net.ipv4.tcp_congestion_control=${used}`)
  return { used, selected: !!want, cubicSelectable: tried.code === 0, cubicError: tried.code === 0 ? null : tried.stderr.trim() }
}

async function rawTcp(lab: Lab, seeders: string[], seconds: number): Promise<{ totalMbit: number; perFlowMbit: number[] }> {
  const receiver = lab.host('receiver')
  const sinks = seeders.map((_, i) => {
    const child = receiver.spawn(process.execPath, [PROBE, 'sink', String(5100 + i)])
    return { child, out: collect(child), exited: once(child, 'exit') }
  })
  for (const s of sinks) await waitFor(s.out, 'ready')
  await Promise.all(seeders.map((s, i) => lab.host(s).run(process.execPath, [PROBE, 'send', receiver.address, String(5100 + i), String(seconds)])))
  await Promise.all(sinks.map((s) => s.exited))
  const perFlow = sinks.map((s) => (JSON.parse(s.out().trim().split('\n').pop()!) as { steadyMbit: number }).steadyMbit)
  return { totalMbit: perFlow.reduce((a, b) => a + b, 0), perFlowMbit: perFlow }
}

function collect(child: ChildProcess): () => string {
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  return () => out
}

async function waitFor(out: () => string, text: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!out().includes(text)) {
    if (Date.now() > end) throw new Error(`no "${text}" within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function waitLinked(d: LabDevice, names: string[], ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await devicesLinked(d, names).catch(() => undefined))) {
    if (Date.now() > end) throw new Error(`${d.name} not linked to ${names.join(', ')} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Title -> sha256 of the receiver's union library, once it lists `count` tracks each held by `holders` devices. */
async function libraryOf(d: LabDevice, count: number, holders: number, ms = 120_000): Promise<Map<string, string>> {
  const end = Date.now() + ms
  for (;;) {
    const { json } = await d.call<{ tracks: Array<{ sha256: string; tags: { title: string }; holders: unknown[] }> }>('GET', '/api/library')
    if (json.tracks.length === count && json.tracks.every((x) => x.holders.length === holders)) return new Map(json.tracks.map((x) => [x.tags.title, x.sha256]))
    if (Date.now() > end) throw new Error(`the receiver lists ${json.tracks.length} of ${count} tracks`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** ms from sending GET /stream (from byte `from`) to its first body byte; the request is then dropped. */
async function firstByte(d: LabDevice, sha256: string, from?: number): Promise<number> {
  const t0 = performance.now()
  const res = await d.request('GET', `/stream/${sha256}`, from === undefined ? {} : { range: `bytes=${from}-` })
  if (res.statusCode !== (from === undefined ? 200 : 206)) throw new Error(`stream ${sha256.slice(0, 12)}: ${res.statusCode}`)
  await once(res, 'readable')
  const ms = performance.now() - t0
  res.destroy()
  // Let the rest of the track arrive (the node fetches it whole) before the next sample.
  await new Promise((r) => setTimeout(r, 800))
  return ms
}

async function libtorrentFetch(lab: Lab, work: string, file: string, seeders: string[], opts: WanBenchOptions): Promise<{ mbit: number; ms: number }> {
  const torrentPath = join(work, 'big.torrent')
  const { default: createTorrent } = (await import(CREATE_TORRENT)) as { default: CreateTorrent }
  // The same piece length as djcloud's torrent of the track; no trackers: the fetch is given its peers.
  const torrent = await new Promise<Uint8Array>((resolve, reject) =>
    createTorrent(file, { pieceLength: pieceLengthFor(opts.size), private: true, announceList: [] }, (err, t) => (err ? reject(err) : resolve(t))),
  )
  await writeFile(torrentPath, torrent)
  const env = { ...process.env, LT_LISTEN: '0.0.0.0:6881', LT_TIMEOUT: '1200' }
  const peers: string[] = []
  const procs: ChildProcess[] = []
  for (const s of seeders) {
    const child = lab.host(s).spawn(PYTHON, [LT_PEER, 'seed', torrentPath, join(work, 'music')], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    procs.push(child)
    const out = collect(child)
    await waitFor(out, '\n', 120_000)
    peers.push(`${lab.host(s).address}:${(JSON.parse(out().split('\n')[0]!) as { port: number }).port}`)
  }
  const save = join(work, 'lt-download')
  await mkdir(save)
  const r = await lab.host('receiver').run(PYTHON, [LT_PEER, 'fetch', torrentPath, save, peers.join(',')], { env, timeoutMs: 1_300_000 })
  for (const p of procs) p.kill('SIGTERM')
  if (r.code !== 0) throw new Error(`libtorrent fetch: ${r.stderr.trim()}`)
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number }
  return { mbit: mbit((await stat(file)).size, got.ms), ms: got.ms }
}
