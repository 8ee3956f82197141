// The collaborative playlist benchmark (see bench/README.md): how long an
// edit made on the owner's device takes to show on a collaborator's two
// devices (another circle), through the device links, then with every node
// restarted with --no-friend-links (through the DHT alone), next to the floor
// of a bare BEP 44 put -> get in the same DHT, measured in the same run.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DhtNode } from '../../src/manifest/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { makeHomes, writeTrack } from '../../src/demo/index.ts'
import { gitCommit, machineInfo, percentiles, round, type MachineInfo, type Percentiles } from '../common.ts'
import type { Service } from '../swarm/procs.ts'
import { djcloud, serveNode, type ServedNode } from '../djcloud-procs.ts'
import { inWorkDir } from '../work-dir.ts'

export interface CollabBenchOptions {
  /** Edits timed each way (and BEP 44 put -> get rounds). */
  edits: number
  /** ms between the nodes' reads of the DHT items (the node's manifestPoll) in the DHT-alone part. */
  pollMs: number
  tmp: string
  log: (line: string) => void
}

export interface CollabBenchResults {
  date: string
  machine: MachineInfo
  commit: string | null
  method: string[]
  edits: number
  /** ms from the owner's API call to the edit shown by each collaborator device, and by both. */
  links: { perDevice: Percentiles; both: Percentiles }
  /** The same, every node restarted with --no-friend-links: the owner's doc travels as DHT items only; read every `pollMs`. */
  dhtAlone: { pollMs: number; perDevice: Percentiles; both: Percentiles }
  /** ms from a BEP 44 put on one node to a get on another seeing it, in the same DHT. */
  floor: Percentiles
  /** links.both p95 / floor p95. */
  ratio: number
  /** dhtAlone.both p95 / floor p95. */
  dhtRatio: number
}

const POLL = 5 // ms between looks at the collaborators' views

async function api<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

async function until<T>(f: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, POLL))
  }
}

export function runCollabBench(opts: CollabBenchOptions): Promise<CollabBenchResults> {
  return inWorkDir(opts.tmp, 'djcloud-bench-collab-', (work) => collabBench(opts, work))
}

async function collabBench(opts: CollabBenchOptions, work: string): Promise<CollabBenchResults> {
  const services: Service<ServedNode>[] = []
  const dhts: DhtNode[] = []
  try {
    const [apc] = await makeHomes(join(work, 'a'), ['alex-pc'])
    const [fpc, flaptop] = await makeHomes(join(work, 'f'), ['fiona-pc', 'fiona-laptop'])
    const ownerOf = (home: string) => (JSON.parse(djcloud(home, ['id'])) as { ownerId: string }).ownerId
    const alex = ownerOf(apc!)
    const fiona = ownerOf(fpc!)
    djcloud(apc!, ['trust', 'add', fiona, '--role', 'friend', '--name', 'Fiona'])
    djcloud(fpc!, ['trust', 'add', alex, '--role', 'friend', '--name', 'Alex'])
    const music = join(work, 'music')
    await mkdir(music)
    for (let i = 0; i < 4; i++) await writeTrack(join(music, `t${i}.wav`), { title: `Track ${i}`, artist: 'Alex' }, i + 1, 1)

    const own = ['--tracker-port', '0', '--tracker-host', '127.0.0.1']
    const serveAll = async (extra: string[]) => {
      const a = await serveNode('alex-pc', apc!, [...own, ...extra])
      services.push(a)
      const boot = a.ready.bootstrap!
      const f = await serveNode('fiona-pc', fpc!, [...own, '--bootstrap', boot, ...extra])
      services.push(f)
      const fl = await serveNode('fiona-laptop', flaptop!, ['--tracker', f.ready.tracker!, '--bootstrap', boot, ...extra])
      services.push(fl)
      return { a, f, fl, boot }
    }
    opts.log('starting three nodes (two circles)')
    let { a, f, fl, boot } = await serveAll([])
    djcloud(apc!, ['scan', music])
    const tracks = (JSON.parse(djcloud(apc!, ['ls'])) as Array<{ sha256: string }>).map((t) => t.sha256)
    djcloud(apc!, ['playlist', 'create', 'b2b'])
    djcloud(apc!, ['playlist', 'add', 'b2b', ...tracks])
    djcloud(apc!, ['playlist', 'share', 'b2b', '--with', fiona, '--edit'])

    const token = { a: (await readApiToken(apc!))!, f: (await readApiToken(fpc!))!, fl: (await readApiToken(flaptop!))! }
    const path = `/api/collab/${alex}/b2b`
    const firstOn = async (r: { base: string; token: string }) =>
      (await api<{ playlist: { entries: Array<{ id: string }> } }>(r.base, r.token, 'GET', path)).playlist.entries[0]?.id
    const readersNow = () => [{ base: f.ready.api, token: token.f }, { base: fl.ready.api, token: token.fl }]
    opts.log('waiting for both of Fiona\'s devices to see the playlist')
    await until(async () => ((await Promise.all(readersNow().map(firstOn))).every(Boolean) ? true : undefined), 120_000, 'the collaborators to see the playlist')

    /** `opts.edits` times: Alex moves his last entry to the top; ms until each of Fiona's devices shows it first. */
    const time = async (what: string) => {
      const readers = readersNow()
      const perDevice: number[] = []
      const both: number[] = []
      for (let i = 0; i < opts.edits; i++) {
        const { playlist } = await api<{ playlist: { entries: Array<{ id: string }> } }>(a.ready.api, token.a, 'GET', '/api/playlists/b2b')
        const last = playlist.entries[playlist.entries.length - 1]!.id
        const t0 = performance.now()
        await api(a.ready.api, token.a, 'POST', '/api/playlists/b2b/move', { entry: last, to: 0 })
        const seen = await Promise.all(readers.map((r) => until(async () => ((await firstOn(r)) === last ? performance.now() - t0 : undefined), 60_000, `edit ${i} (${what}) on a collaborator device`)))
        perDevice.push(...seen)
        both.push(Math.max(...seen))
      }
      return { perDevice: percentiles(perDevice), both: percentiles(both) }
    }
    opts.log(`timing ${opts.edits} edits through the links`)
    const l = await time('links')

    opts.log(`restarting the three nodes with --no-friend-links (DHT items read every ${opts.pollMs} ms)`)
    await Promise.all(services.splice(0).map((s) => s.stop()))
    const timingsBefore = process.env.DJCLOUD_TIMINGS
    process.env.DJCLOUD_TIMINGS = JSON.stringify({ manifestPoll: opts.pollMs })
    try {
      ;({ a, f, fl, boot } = await serveAll(['--no-friend-links']))
    } finally {
      if (timingsBefore === undefined) delete process.env.DJCLOUD_TIMINGS
      else process.env.DJCLOUD_TIMINGS = timingsBefore
    }
    const current = (await api<{ playlist: { entries: Array<{ id: string }> } }>(a.ready.api, token.a, 'GET', '/api/playlists/b2b')).playlist.entries[0]!.id
    await until(async () => ((await Promise.all(readersNow().map(firstOn))).every((x) => x === current) ? true : undefined), 120_000, 'the collaborators to see the playlist again')
    opts.log(`timing ${opts.edits} edits through the DHT alone`)
    const d = await time('DHT alone')

    opts.log(`timing ${opts.edits} bare BEP 44 put -> get rounds in the same DHT`)
    const put = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [boot] })
    const get = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [boot] })
    dhts.push(put, get)
    await Promise.all([put.lookup(randomBytes(20), 2_000), get.lookup(randomBytes(20), 2_000)])
    const seed = randomBytes(32)
    const { keyPairFromSeed } = await import('../../src/identity/index.ts')
    const publicKey = keyPairFromSeed(seed).publicKey
    const salt = randomBytes(16)
    const floor: number[] = []
    for (let i = 1; i <= opts.edits; i++) {
      const infoHash = randomBytes(20)
      const t0 = performance.now()
      await put.putPointer({ seed, salt, seq: i, infoHash })
      await until(async () => ((await get.getPointer({ publicKey, salt }))?.seq === i ? true : undefined), 30_000, `BEP 44 round ${i}`)
      floor.push(performance.now() - t0)
    }
    const fl95 = percentiles(floor)
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: machineInfo(),
      commit: gitCommit(['src', 'bench/collab']).commit,
      method: [
        'two circles on 127.0.0.1: Alex (alex-pc: admin, tracker, the DHT bootstrap) and Fiona (fiona-pc with its own tracker, fiona-laptop); three `djcloud serve` processes, analysis off; Alex makes Fiona a collaborator of a 4-track playlist',
        `links: ${opts.edits} times, Alex's API moves the playlist's last entry to the top (POST /api/playlists/b2b/move); timed from before that call until GET /api/collab/<alex>/b2b on each of Fiona's devices shows it first (polled every ${POLL} ms, which bounds the resolution); the doc travels alex-pc -> each of Fiona's devices over their share-channel links`,
        `dhtAlone: the three nodes restarted with --no-friend-links (no device links with the other circle's) and manifestPoll ${opts.pollMs} ms; the same ${opts.edits} moves timed the same way; alex-pc puts its doc sealed for Fiona's circle as BEP 44 items under its device key (collab-dht.ts), each of Fiona's devices reads them every ${opts.pollMs} ms, so the figure holds up to one read interval of waiting`,
        `floor: in the same DHT (the three nodes' DHT nodes), two more DHT nodes in the benchmark process; ${opts.edits} times, a BEP 44 mutable put (seq + 1) on one, awaited, then gets on the other until it returns that seq; timed from before the put`,
      ],
      edits: opts.edits,
      links: l,
      dhtAlone: { pollMs: opts.pollMs, ...d },
      floor: fl95,
      ratio: round(l.both.p95 / fl95.p95, 2),
      dhtRatio: round(d.both.p95 / fl95.p95, 2),
    }
  } finally {
    await Promise.all(dhts.map((d) => d.close().catch(() => {})))
    await Promise.all(services.map((s) => s.stop()))
  }
}
