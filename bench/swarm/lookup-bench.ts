// Time to the first 64 KiB of a track never fetched before, when the
// downloader knows only its SHA-256, in two states (issue 3):
//   device-warm    the device channel to the holders is open, no track wire is
//   first contact  nothing is open: a signed tracker announce finds the devices,
//                  then the device channel, the lookup, the track wires
// Three holders run in processes of their own; the tracker and the measuring
// downloader run here. 20 reads each, at the middle of a different 8 MB track.
//   npm run bench:lookup -- [--tracks N] [--quick] [--out FILE] [--tmp DIR]
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { benchMain, machineInfo, percentiles, positiveCount, REPO, type Percentiles } from '../common.ts'
import { join } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import {
  addDevice, encodeCertificate, generateKeyPair, issueCertificate, newRoster, signRoster, type DeviceCertificate, type KeyPair,
} from '../../src/identity/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'
import { Swarm, announce, announceSigner, metaFromTrack, type TorrentMeta } from '../../src/swarm/index.ts'
import { createAdmissionTracker } from '../../tracker/index.ts'
import type { LookupConfig } from './lookup-config.ts'

const TRACK_BYTES = 8 * 1000 * 1000
const READ = 64 * 1024
const HOLDERS = ['holder-1', 'holder-2', 'holder-3']
const USAGE = `Usage: npm run bench:lookup -- [options]

  --tracks N    tracks offered, one timed read each per state (default 20)
  --quick       a smoke run: 5 tracks; results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/swarm-lookup.json)
  --tmp DIR     where the tracks and caches go (default: the OS temp dir, $TMPDIR)
`

type Figure = Percentiles & { target: string; met: boolean }

export interface LookupBenchResults {
  date: string
  machine: ReturnType<typeof machineInfo>
  method: string[]
  deviceWarm: Figure
  firstContact: Figure
}

export function lookupBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'swarm-lookup',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' } },
    options: (values, quick) => ({ tracks: positiveCount(values.tracks as string | undefined, quick ? 5 : 20) }),
    run: runLookupBench,
    format: formatLookupResults,
  })
}

export function formatLookupResults(results: LookupBenchResults): string {
  const row = (label: string, r: Figure) =>
    `${label.padEnd(34)}${`${r.p50} ms`.padEnd(10)}${`${r.p95} ms`.padEnd(10)}${`${r.max} ms`.padEnd(10)}${r.target} ${r.met ? 'ok' : 'MISSED'}`
  return [
    'first 64 KiB of a track known only by its SHA-256',
    `${''.padEnd(34)}${'p50'.padEnd(10)}${'p95'.padEnd(10)}${'max'.padEnd(10)}target`,
    row('device-warm (device channel open)', results.deviceWarm),
    row('first contact (tracker lookup)', results.firstContact),
  ].join('\n')
}

async function runLookupBench(opts: { tracks: number; tmp: string; log: (line: string) => void }): Promise<LookupBenchResults> {
  const TRACKS = opts.tracks
  const dir = await mkdtemp(join(opts.tmp, 'djcloud-bench-lookup-'))
  const children: ChildProcess[] = []
  const cleanup = async () => {
    for (const c of children) c.kill('SIGTERM')
    await rm(dir, { recursive: true, force: true })
  }
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)))
  try {
    // circle
    const owner = generateKeyPair()
    const devices: Record<string, { key: KeyPair; cert: DeviceCertificate }> = {}
    for (const name of [...HOLDERS, 'downloader']) {
      const key = generateKeyPair()
      devices[name] = { key, cert: issueCertificate(owner.seed, { owner: owner.publicKey, device: key.publicKey, name, role: 'member', created: Date.now() }) }
    }
    let roster = newRoster(owner.publicKey, devices['holder-1']!.cert)
    for (const name of [...HOLDERS.slice(1), 'downloader']) roster = addDevice(roster, devices[name]!.cert)
    const circleSecret = randomBytes(32)

    // tracks
    await mkdir(join(dir, 'tracks'))
    const tracks: LookupConfig['tracks'] = []
    const metas: TorrentMeta[] = []
    for (let i = 0; i < TRACKS; i++) {
      const bytes = randomBytes(TRACK_BYTES)
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      const pieceLength = pieceLengthFor(bytes.length)
      const pieces: Buffer[] = []
      for (let at = 0; at < bytes.length; at += pieceLength) pieces.push(createHash('sha1').update(bytes.subarray(at, at + pieceLength)).digest())
      const path = join(dir, 'tracks', sha256)
      await writeFile(path, bytes)
      tracks.push({ path, sha256, size: bytes.length, pieceLength, pieces: Buffer.concat(pieces).toString('hex') })
      metas.push(metaFromTrack({ sha256, size: bytes.length, pieceLength, pieces: Buffer.concat(pieces) }, circleSecret))
    }
    const config: LookupConfig = {
      dir,
      roster: Buffer.from(signRoster(roster, owner.seed)).toString('hex'),
      circleSecret: circleSecret.toString('hex'),
      devices: Object.fromEntries(Object.entries(devices).map(([n, d]) => [n, { seed: Buffer.from(d.key.seed).toString('hex'), certificate: Buffer.from(encodeCertificate(d.cert)).toString('hex') }])),
      tracks,
    }
    const configPath = join(dir, 'config.json')
    await writeFile(configPath, JSON.stringify(config), { mode: 0o600 })

    // tracker and holders
    // The tracker runs as holder-1 (its TLS key is that device's, pinned by the roster).
    const tracker = createAdmissionTracker({ roster, token: randomBytes(16).toString('hex'), deviceSeed: devices['holder-1']!.key.seed })
    tracker.on('warning', () => {})
    const { port: trackerPort } = await tracker.listen(0, '127.0.0.1')
    const trackerUrl = `https://127.0.0.1:${trackerPort}/announce`
    for (const name of HOLDERS) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench/swarm/holder.ts'), configPath, name, trackerUrl], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] })
      children.push(child)
      await once(child.stdout!, 'data')
    }

    const me = devices.downloader!
    const credentials = { deviceSeed: me.key.seed, certificate: encodeCertificate(me.cert) }
    const signer = announceSigner({ device: me.key, certificate: me.cert })
    const newSwarm = async (tag: string) => {
      const s = new Swarm({ credentials, roster: () => roster, circleSecret, cacheDir: join(dir, `dl-${tag}`), host: '127.0.0.1' })
      s.on('warning', () => {})
      await s.start()
      return s
    }
    /** Tracker announce, then the device channel to every device it lists. */
    const meet = async (s: Swarm) => {
      const { peers } = await announce(trackerUrl, { infoHash: s.channel, peerId: randomBytes(20), port: s.port, signer, roster })
      await Promise.allSettled(peers.filter((p) => p.port !== s.port).map((p) => s.connectDevice(p.host, p.port)))
    }
    const firstBytes = async (s: Swarm, meta: TorrentMeta) => {
      const torrent = await s.open(meta.sha256)
      const mid = Math.floor(meta.size / 2)
      await torrent.waitFor(mid, mid + READ - 1)
      const got = await torrent.readAt(mid, READ)
      if (got.length !== READ) throw new Error('short read')
    }

    opts.log(`${HOLDERS.length} holders up with ${TRACKS} tracks; tracker on ${trackerUrl}`)
    // warm-up: one of each, untimed
    const warm = await newSwarm('warmup')
    await meet(warm)
    await firstBytes(warm, metas[0]!)
    await warm.close()

    // device-warm: one swarm, devices met once; each read is a new track
    const dw = await newSwarm('device-warm')
    await meet(dw)
    const deviceWarm: number[] = []
    for (const meta of metas) {
      const t0 = performance.now()
      await firstBytes(dw, meta)
      deviceWarm.push(performance.now() - t0)
    }
    await dw.close()
    opts.log(`device-warm: ${deviceWarm.length} reads`)

    // first contact: a new swarm each time, tracker lookup included
    const firstContact: number[] = []
    for (const [i, meta] of metas.entries()) {
      const s = await newSwarm(`fc-${i}`)
      const t0 = performance.now()
      await meet(s)
      await firstBytes(s, meta)
      firstContact.push(performance.now() - t0)
      await s.close()
    }
    await tracker.close()
    opts.log(`first contact: ${firstContact.length} reads`)

    const dwP = percentiles(deviceWarm)
    const fcP = percentiles(firstContact)
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: machineInfo(),
      method: [
        `${HOLDERS.length} holders (Swarm, one process each) offering ${TRACKS} tracks of ${TRACK_BYTES / 1e6} MB; admission tracker and the measured downloader in the benchmark process; all on 127.0.0.1`,
        'each sample: the first 64 KiB at the middle of a track this downloader never fetched, knowing only its SHA-256 (device-channel lookup, info dict checked, track wires opened, piece fetched and verified)',
        'device-warm: the device channel to every holder already open; first contact: a fresh swarm, a signed tracker announce, then the device channel',
      ],
      deviceWarm: { ...dwP, target: 'p95 < 100 ms', met: dwP.p95 < 100 },
      firstContact: { ...fcP, target: 'p95 < 400 ms', met: fcP.p95 < 400 },
    }
  } finally {
    await cleanup()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await lookupBenchMain(process.argv.slice(2))
