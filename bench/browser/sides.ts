// The two sides of the browser benchmark, each two seeder processes on
// 127.0.0.1 (seeder.ts) holding the same file:
// - djcloud: a circle (owner, devices 'laptop' and 'nas', the page admitted
//   as 'bench-browser'); each device a real Swarm offering the track, which
//   answers the page's WebRTC offer (acceptOffer over
//   webrtc-polyfill/node-datachannel, as WebRtcLinks does) and takes the
//   connection with Swarm.addRtc, where dj_auth runs on every stream. Offers
//   and answers travel through the harness (`signal`), not a tracker.
// - webtorrent: a bittorrent-tracker WebSocket server in this process and
//   two webtorrent 3 hybrid clients seeding over WebRTC (webrtc-polyfill),
//   no DHT, no LSD, no public tracker, no ICE servers.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { addDevice, encodeCertificate, generateKeyPair, issueCertificate, newRoster, signRoster, type Roster } from '../../src/identity/index.ts'
import { deviceChannelInfoHash, metaFromTrack, type TorrentMeta } from '../../src/swarm/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SEEDER = fileURLToPath(new URL('./seeder.ts', import.meta.url))

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Seeder {
  proc: ChildProcess
  ready: Record<string, any>
  send(m: object): void
  on(fn: (m: Record<string, any>) => void): void
  stop(): Promise<void>
}

/** Starts seeder.ts with `config`; resolves once it printed {ready}. */
async function startSeeder(dir: string, name: string, config: object, warn: (line: string) => void): Promise<Seeder> {
  const file = join(dir, `${name}.json`)
  await writeFile(file, JSON.stringify(config), { mode: 0o600 })
  const proc = spawn(process.execPath, ['--import', 'tsx', SEEDER, file], { stdio: ['pipe', 'pipe', 'pipe'] })
  const listeners: Array<(m: Record<string, any>) => void> = []
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      const m = JSON.parse(line) as Record<string, any>
      for (const f of listeners) f(m)
    } catch {
      warn(`${name}: ${line}`)
    }
  })
  createInterface({ input: proc.stderr! }).on('line', (line) => warn(`${name}: ${line}`))
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    listeners.push((m) => m.ready && resolve(m))
    proc.once('exit', (code) => reject(new Error(`seeder ${name} exited (${code}) before it was ready`)))
  })
  return {
    proc,
    ready,
    send: (m) => proc.stdin!.write(`${JSON.stringify(m)}\n`),
    on: (fn) => listeners.push(fn),
    async stop() {
      if (proc.exitCode !== null) return
      proc.stdin!.end()
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await once(proc, 'exit')
      clearTimeout(timer)
    },
  }
}

/** The track's TorrentMeta as the library makes it (pieceLengthFor, the circle's tag). */
export function trackMeta(bytes: Buffer, circleSecret: Uint8Array): TorrentMeta {
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const pieceLength = pieceLengthFor(bytes.length)
  const pieces: Buffer[] = []
  for (let at = 0; at < bytes.length; at += pieceLength) pieces.push(createHash('sha1').update(bytes.subarray(at, at + pieceLength)).digest())
  return metaFromTrack({ sha256, size: bytes.length, pieceLength, pieces: Buffer.concat(pieces) }, circleSecret)
}

export interface DjcloudSide {
  meta: TorrentMeta
  /** What the page needs: its certificate, the signed roster, the device channel's infohash (hex). */
  pageArgs: { certificate: string; roster: string; deviceChannel: string }
  /** Hands the page's offer to device `i`; resolves with its answer. */
  signal(i: number, sdp: string): Promise<string>
  /** ms from the offer received to the Swarm's device link up, per link (the Node side's view). */
  linked: number[]
  close(): Promise<void>
}

/** Two Swarms of a fresh circle holding `path`, one process each; the page (its raw Ed25519 key `pageKey`) admitted as 'bench-browser'. */
export async function startDjcloud(dir: string, path: string, bytes: Buffer, pageKey: Uint8Array, warn: (line: string) => void): Promise<DjcloudSide> {
  const owner = generateKeyPair()
  const circleSecret = generateKeyPair().seed
  const devices = ['laptop', 'nas'].map((name) => {
    const key = generateKeyPair()
    const cert = issueCertificate(owner.seed, { owner: owner.publicKey, device: key.publicKey, name, role: 'member', created: Date.now() })
    return { name, cert, seed: key.seed }
  })
  const pageCert = issueCertificate(owner.seed, { owner: owner.publicKey, device: pageKey, name: 'bench-browser', role: 'member', created: Date.now() })
  let roster: Roster = newRoster(owner.publicKey, devices[0]!.cert)
  roster = addDevice(roster, devices[1]!.cert)
  roster = addDevice(roster, pageCert)
  const signed = hex(signRoster(roster, owner.seed))
  const meta = trackMeta(bytes, circleSecret)
  const seeders = await Promise.all(
    devices.map((d, i) =>
      startSeeder(dir, d.name, {
        mode: 'djcloud', path, name: d.name, deviceSeed: hex(d.seed), certificate: hex(encodeCertificate(d.cert)), roster: signed, circleSecret: hex(circleSecret), cacheDir: join(dir, `cache-${i}`),
      }, warn),
    ),
  )
  for (const s of seeders) if (s.ready.sha256 !== meta.sha256) throw new Error('a seeder made another track id')
  const linked: number[] = []
  const waiting = new Map<number, { resolve(sdp: string): void; reject(err: Error): void }>()
  for (const s of seeders) {
    s.on((m) => {
      if (typeof m.linkedMs === 'number') linked.push(m.linkedMs)
      const w = typeof m.id === 'number' ? waiting.get(m.id) : undefined
      if (!w) return
      waiting.delete(m.id)
      if (m.answer) w.resolve(m.answer)
      else w.reject(new Error(m.error ?? 'no answer'))
    })
  }
  let nextId = 0
  return {
    meta,
    pageArgs: { certificate: hex(encodeCertificate(pageCert)), roster: signed, deviceChannel: hex(deviceChannelInfoHash(circleSecret)) },
    linked,
    signal(i, sdp) {
      const s = seeders[i]
      if (!s) return Promise.reject(new Error(`no device ${i}`))
      const id = nextId++
      return new Promise<string>((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        s.send({ id, sdp })
      })
    },
    async close() {
      await Promise.all(seeders.map((s) => s.stop()))
    },
  }
}

export interface WebtorrentSide {
  announce: string
  /** The .torrent (base64) the two seeders seed. */
  torrent: string
  infoHash: string
  pieceLength: number
  close(): Promise<void>
}

/** A WebSocket tracker on 127.0.0.1 and two webtorrent hybrid seeders of `path` (piece length `pieceLength`), one process each. */
export async function startWebtorrent(dir: string, path: string, pieceLength: number, warn: (line: string) => void): Promise<WebtorrentSide> {
  const { default: Server } = (await import('bittorrent-tracker/server' as string)) as { default: any }
  const tracker = new Server({ udp: false, http: false, ws: true, stats: false, trustProxy: false })
  tracker.on('error', (err: Error) => warn(`tracker: ${err.message}`))
  tracker.on('warning', () => {})
  tracker.listen(0, '127.0.0.1')
  await once(tracker, 'listening')
  const announce = `ws://127.0.0.1:${tracker.http.address().port}`
  const seeders: Seeder[] = []
  const stop = async () => {
    await Promise.all(seeders.map((s) => s.stop()))
    await new Promise<void>((resolve) => tracker.close(() => resolve()))
  }
  try {
    for (const name of ['wt-laptop', 'wt-nas']) seeders.push(await startSeeder(dir, name, { mode: 'webtorrent', path, announce, pieceLength }, warn))
  } catch (err) {
    await stop()
    throw err
  }
  const first = seeders[0]!.ready
  if (seeders[1]!.ready.infoHash !== first.infoHash) throw new Error('the two webtorrent seeders made different torrents')
  // Both in the tracker's swarm before the page asks: a seeder's first announce waits for its offers (simple-peer
  // gives node-datachannel's ICE gathering 5 s), and offers crossing the page's own get one wire of each pair dropped
  // as a duplicate on each side (no wire until the next announce, 120 s later).
  const started = Date.now()
  while ((tracker.torrents[first.infoHash]?.complete ?? 0) < 2) {
    if (Date.now() - started > 60_000) throw new Error('the webtorrent seeders did not announce within 60 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  return { announce, torrent: first.torrent, infoHash: first.infoHash, pieceLength: first.pieceLength, close: stop }
}
