// The NAT benchmark (bench/README.md, "bench/nat"): own devices behind the
// NAT lab's NATs (docs/wan-lab.md, "NATs"), as real `djcloud serve`
// processes. laptop and home sit behind two cone NATs (they link by a punched
// hole), symlaptop and symhome behind two symmetric ones (they link through
// the hub, the admin device, which relays); every NAT's uplink is capped.
// Measured: how long each kind of link takes to come up (the laptops'
// nodes restarted for each sample), what a fetch over the punched link and
// through the relay carries against the capped uplink, the relay's CPU per
// MB, and the first byte of a seek into a track not fetched, per path.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { once } from 'node:events'
import { link, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeHomes, writeNoiseWav } from '../../src/demo/index.ts'
import { gitCommit, machineInfo, percentiles, round } from '../common.ts'
import { djcloud } from '../djcloud-procs.ts'
import { createLab, labUnavailable, payloadMbit, type Lab } from '../../test/helpers/wan-lab/index.ts'
import { startAdmin, startMember, type LabDevice } from '../../test/helpers/lab-devices.ts'
import type { NatBenchResults, PathName } from './report.ts'

export interface NatBenchOptions {
  size: number
  uplinkMbit: number
  rttMs: number
  samples: number
  tmp: string
  log: (line: string) => void
}

export const TARGETS = { punchedSetupP95Ms: 2_000, relayedSetupP95Ms: 5_000, relayOfDirect: 0.8, firstByteP95Ms: 1_000 }
const LATENCY_TRACK = 1_000_000 // bytes (~5.7 s of CD audio)
const timings = { redial: 1_000, manifestPoll: 5_000, reachAfter: 500 } // ms
const MEASURED_PATHS = ['src', 'bench/nat', 'test/helpers/wan-lab', 'test/helpers/lab-devices.ts']
const PATHS: PathName[] = ['direct', 'punched', 'relayed']
/** Who holds each path's latency tracks, and who reads them. */
const READER: Record<PathName, { holder: string; reader: string }> = {
  direct: { holder: 'hub', reader: 'laptop' },
  punched: { holder: 'home', reader: 'laptop' },
  relayed: { holder: 'symhome', reader: 'symlaptop' },
}

interface CircleDevice {
  name: string
  link: { path: string; setupMs: number | null } | null
}

const mbit = (bytes: number, ms: number) => (bytes * 8) / (ms * 1000)

export async function runNatBench(opts: NatBenchOptions): Promise<NatBenchResults> {
  const why = labUnavailable()
  if (why) throw new Error(why)
  const work = await mkdtemp(join(opts.tmp, 'djcloud-bench-nat-'))
  let lab: Lab | null = null
  try {
    opts.log(`writing the ${opts.size / 1e6} MB track and ${3 * opts.samples} latency tracks`)
    const names = ['hub', 'home', 'laptop', 'symhome', 'symlaptop']
    const homes = new Map((await makeHomes(join(work, 'homes'), names)).map((h, i) => [names[i]!, h]))
    const music = join(work, 'music')
    await mkdir(music)
    // One big track per path, each held by one device only: a fetch has one source, over that path.
    await writeNoiseWav(join(music, 'big-punched.wav'), opts.size, 1)
    await writeNoiseWav(join(music, 'big-relayed.wav'), opts.size, 2)
    const files = new Map<string, string[]>([['home', ['big-punched.wav']], ['symhome', ['big-relayed.wav']], ['hub', []]])
    for (const [pi, p] of PATHS.entries()) {
      for (let i = 0; i < opts.samples; i++) {
        const f = `${p}-${i}.wav`
        await writeNoiseWav(join(music, f), LATENCY_TRACK, 100 + pi * 1000 + i)
        files.get(READER[p].holder)!.push(f)
      }
    }
    for (const [holder, list] of files) {
      const m = join(homes.get(holder)!, 'music')
      await mkdir(m)
      for (const f of list) await link(join(music, f), join(m, f))
      opts.log(`scanning ${holder}`)
      djcloud(homes.get(holder)!, ['scan', m])
    }
    const shaOf = new Map<string, string>()
    for (const f of [...files.values()].flat()) shaOf.set(f, sha256(await readFile(join(music, f))))

    lab = await createLab({
      nats: ['cone1', 'cone2', 'sym1', 'sym2'].map((name) => ({ name, kind: name.startsWith('cone') ? 'cone' as const : 'symmetric' as const, uplinkMbit: opts.uplinkMbit })),
      hosts: [{ name: 'hub', uplinkMbit: 100 }, { name: 'home', behind: 'cone1' }, { name: 'laptop', behind: 'cone2' }, { name: 'symhome', behind: 'sym1' }, { name: 'symlaptop', behind: 'sym2' }],
      rttMs: opts.rttMs,
    })
    const cc = (await lab.host('hub').run('sysctl', ['-n', 'net.ipv4.tcp_congestion_control'])).stdout.trim()
    opts.log(`lab ${lab.id}: NAT uplinks ${opts.uplinkMbit} Mbit/s, ${opts.rttMs} ms RTT, ${cc}`)

    const { device: hub, servers } = await startAdmin(lab, 'hub', homes.get('hub')!, { timings })
    const nodes = new Map<string, LabDevice>([['hub', hub]])
    for (const n of ['home', 'symhome', 'laptop', 'symlaptop']) nodes.set(n, await startMember(lab, n, homes.get(n)!, servers, { timings }))
    const restart = async (n: string) => {
      await nodes.get(n)!.stop()
      nodes.set(n, await startMember(lab!, n, homes.get(n)!, servers, { timings }))
    }

    // Link set-up: the readers restart, every link of theirs comes up anew.
    const setup: Record<PathName, number[]> = { direct: [], punched: [], relayed: [] }
    for (let i = 0; i < opts.samples; i++) {
      if (i > 0) await Promise.all([restart('laptop'), restart('symlaptop')])
      setup.direct.push(await setupOf(nodes, 'laptop', 'hub', 'direct'))
      setup.punched.push(await setupOf(nodes, 'laptop', 'home', 'punched'))
      setup.relayed.push(await setupOf(nodes, 'symlaptop', 'symhome', 'relayed'))
      opts.log(`set-up ${i + 1}: direct ${round(setup.direct.at(-1)!)} ms, punched ${round(setup.punched.at(-1)!)} ms, relayed ${round(setup.relayed.at(-1)!)} ms`)
    }
    for (const n of ['laptop', 'symlaptop']) await libraryHas(nodes.get(n)!, [...shaOf.values()])

    // Throughput: the big track over the punched link, then through the relay (the hub's CPU counted).
    opts.log('fetching over the punched link')
    const punched = await fetchOn(nodes.get('laptop')!, shaOf.get('big-punched.wav')!)
    opts.log(`punched: ${round(mbit(punched.bytes, punched.ms), 2)} Mbit/s`)
    const cpu0 = cpuMs(hub.info.pid)
    const relayed = await fetchOn(nodes.get('symlaptop')!, shaOf.get('big-relayed.wav')!)
    const relayCpu = cpuMs(hub.info.pid) - cpu0
    opts.log(`relayed: ${round(mbit(relayed.bytes, relayed.ms), 2)} Mbit/s, relay CPU ${round(relayCpu)} ms`)

    // First byte of a seek into a track not fetched, per path.
    const firstByte: Record<PathName, number[]> = { direct: [], punched: [], relayed: [] }
    for (const p of PATHS) {
      for (let i = 0; i < opts.samples; i++) firstByte[p].push(await seekFirstByte(nodes.get(READER[p].reader)!, shaOf.get(`${p}-${i}.wav`)!, Math.floor(LATENCY_TRACK * 0.6)))
      opts.log(`first byte ${p}: ${firstByte[p].map((v) => round(v)).join(' ')}`)
    }
    for (const n of nodes.values()) await n.stop()

    const capacity = payloadMbit(opts.uplinkMbit)
    const pm = mbit(punched.bytes, punched.ms)
    const rm_ = mbit(relayed.bytes, relayed.ms)
    return {
      date: new Date().toISOString(),
      ...gitCommit(MEASURED_PATHS),
      machine: machineInfo(),
      lab: { uplinkMbit: opts.uplinkMbit, rttMs: opts.rttMs, trackBytes: opts.size, congestionControl: cc },
      targets: TARGETS,
      setup: { direct: percentiles(setup.direct), punched: percentiles(setup.punched), relayed: percentiles(setup.relayed) },
      throughput: {
        capacityMbit: round(capacity, 2),
        punched: { mbit: round(pm, 2), ms: round(punched.ms) },
        relayed: { mbit: round(rm_, 2), ms: round(relayed.ms) },
        relayOfPunched: round(rm_ / pm, 3),
        punchedOfCapacity: round(pm / capacity, 3),
        relayedOfCapacity: round(rm_ / capacity, 3),
        relayCpuMsPerMb: round(relayCpu / (relayed.bytes / 1e6), 2),
      },
      firstByte: { direct: percentiles(firstByte.direct), punched: percentiles(firstByte.punched), relayed: percentiles(firstByte.relayed) },
      samples: { setup, firstByte },
    }
  } finally {
    await lab?.destroy()
    await rm(work, { recursive: true, force: true })
  }
}


const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function circleOf(d: LabDevice): Promise<CircleDevice[]> {
  return (await d.call<{ devices: CircleDevice[] }>('GET', '/api/circle')).json.devices
}

/**
 * ms the link between `a` and `b` took to come up along `path`, as the side
 * that opened it measured (whichever did: the device with the lower key
 * reaches first); waits for it to be up on that path.
 */
async function setupOf(nodes: Map<string, LabDevice>, a: string, b: string, path: string, ms = 60_000): Promise<number> {
  const end = Date.now() + ms
  for (;;) {
    const [fromA, fromB] = await Promise.all([circleOf(nodes.get(a)!), circleOf(nodes.get(b)!)])
    const la = fromA.find((d) => d.name === b)?.link
    const lb = fromB.find((d) => d.name === a)?.link
    if (la?.path === path && lb?.path === path) {
      const v = la.setupMs ?? lb.setupMs
      if (v !== null) return v
    }
    if (Date.now() > end) throw new Error(`${a} and ${b} not linked ${path} within ${ms} ms: ${JSON.stringify({ la, lb })}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function libraryHas(d: LabDevice, shas: string[], ms = 120_000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    const { json } = await d.call<{ tracks: Array<{ sha256: string }> }>('GET', '/api/library')
    const have = new Set(json.tracks.map((t) => t.sha256))
    if (shas.every((s) => have.has(s))) return
    if (Date.now() > end) throw new Error(`${d.name} lists ${shas.filter((s) => have.has(s)).length} of ${shas.length} tracks`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

async function fetchOn(d: LabDevice, sha: string): Promise<{ ms: number; bytes: number }> {
  const r = await d.call<{ ms: number; bytes: number; sources: Record<string, number> }>('POST', '/api/fetch', { sha256: sha })
  if (r.status !== 200) throw new Error(`fetch on ${d.name}: ${r.status} ${JSON.stringify(r.json)}`)
  if (Object.keys(r.json.sources).length !== 1) throw new Error(`fetch on ${d.name} had sources ${JSON.stringify(r.json.sources)}: the figure needs one`)
  return r.json
}

/** ms from GET /stream with a Range from `from` to its first body byte; the rest is then let arrive. */
async function seekFirstByte(d: LabDevice, sha: string, from: number): Promise<number> {
  const t0 = performance.now()
  const res = await d.request('GET', `/stream/${sha}`, { range: `bytes=${from}-` })
  if (res.statusCode !== 206) throw new Error(`stream ${sha.slice(0, 12)} on ${d.name}: ${res.statusCode}`)
  await once(res, 'readable')
  const ms = performance.now() - t0
  res.destroy()
  await new Promise((r) => setTimeout(r, 800))
  return ms
}

/** CPU time (user + system) of a process so far, in ms (/proc: clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
