// The two sides of the browser benchmark, each two seeders in this Node
// process on 127.0.0.1, holding the same file:
// - djcloud: a circle (owner, two devices, the page admitted as a third)
//   and two real Swarms offering the track; each answers the page's WebRTC
//   offer (acceptOffer over webrtc-polyfill/node-datachannel, as
//   WebRtcLinks does) and takes the connection with Swarm.addRtc, where
//   dj_auth runs on every stream. The offers and answers travel through the
//   harness (`signal`), not a tracker.
// - webtorrent: a bittorrent-tracker WebSocket server and two webtorrent 3
//   hybrid clients seeding over WebRTC (webrtc-polyfill), no DHT, no LSD, no
//   public tracker, no ICE servers.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { once } from 'node:events'
import { addDevice, encodeCertificate, generateKeyPair, issueCertificate, newRoster, signRoster, type Roster } from '../../src/identity/index.ts'
import { deviceChannelInfoHash, metaFromTrack, Swarm, type TorrentMeta } from '../../src/swarm/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'
import { acceptOffer } from '../../src/rtc/index.ts'
import { nodeRtcOptions } from '../../src/rtc-node.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

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
  /** Answers the page's offer to device `i`; the connection goes to that Swarm once open. */
  signal(i: number, sdp: string): Promise<string>
  /** ms from the answer made to the Swarm's device link, per link (the Node side's view). */
  linked: number[]
  close(): Promise<void>
}

/** Two Swarms of a fresh circle holding `path`; the page (its raw Ed25519 key `pageKey`) admitted as device 'bench-browser'. */
export async function startDjcloud(dir: string, path: string, bytes: Buffer, pageKey: Uint8Array, warn: (line: string) => void): Promise<DjcloudSide> {
  const owner = generateKeyPair()
  const circleSecret = generateKeyPair().seed
  const devices = ['laptop', 'nas'].map((name) => {
    const key = generateKeyPair()
    const cert = issueCertificate(owner.seed, { owner: owner.publicKey, device: key.publicKey, name, role: 'member', created: Date.now() })
    return { cert, credentials: { deviceSeed: key.seed, certificate: encodeCertificate(cert) } }
  })
  const pageCert = issueCertificate(owner.seed, { owner: owner.publicKey, device: pageKey, name: 'bench-browser', role: 'member', created: Date.now() })
  let roster: Roster = newRoster(owner.publicKey, devices[0]!.cert)
  roster = addDevice(roster, devices[1]!.cert)
  roster = addDevice(roster, pageCert)
  const meta = trackMeta(bytes, circleSecret)
  const swarms = await Promise.all(
    devices.map(async (d, i) => {
      const s = new Swarm({ credentials: d.credentials, roster: () => roster, circleSecret, cacheDir: join(dir, `cache-${i}`), host: '127.0.0.1' })
      s.on('warning', (err: Error) => warn(`${d.cert.name}: ${err.message}`))
      s.on('refused', (_h: string, reason: string) => warn(`${d.cert.name} refused a stream: ${reason}`))
      await s.start()
      s.offer(meta, path)
      return s
    }),
  )
  const rtc = await nodeRtcOptions()
  const linked: number[] = []
  return {
    meta,
    pageArgs: { certificate: hex(encodeCertificate(pageCert)), roster: hex(signRoster(roster, owner.seed)), deviceChannel: hex(deviceChannelInfoHash(circleSecret)) },
    linked,
    async signal(i, sdp) {
      const swarm = swarms[i]
      if (!swarm) throw new Error(`no device ${i}`)
      const t0 = performance.now()
      const answer = await acceptOffer(sdp, rtc)
      answer.connection.then(
        (conn) => swarm.addRtc(conn).then(() => linked.push(performance.now() - t0)),
        (err: Error) => warn(`device ${i}: ${err.message}`),
      ).catch((err: Error) => warn(`device ${i}: ${err.message}`))
      return answer.sdp
    },
    async close() {
      await Promise.all(swarms.map((s) => s.close()))
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

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A WebSocket tracker on 127.0.0.1 and two webtorrent hybrid seeders of `path` (piece length `pieceLength`). */
export async function startWebtorrent(path: string, pieceLength: number): Promise<WebtorrentSide> {
  const { default: Server } = (await import('bittorrent-tracker/server' as string)) as { default: any }
  const { default: WebTorrent } = (await import('webtorrent' as string)) as { default: any }
  const wrtc = await import('webrtc-polyfill')
  const tracker = new Server({ udp: false, http: false, ws: true, stats: false, trustProxy: false })
  tracker.on('error', () => {})
  tracker.on('warning', () => {})
  tracker.listen(0, '127.0.0.1')
  await once(tracker, 'listening')
  const announce = `ws://127.0.0.1:${tracker.http.address().port}`
  const clients: any[] = []
  let first: any
  for (let i = 0; i < 2; i++) {
    const client = new WebTorrent({ dht: false, lsd: false, utp: false, natUpnp: false, natPmp: false, webSeeds: false, tracker: { wrtc, rtcConfig: { iceServers: [] } } })
    client.on('error', () => {})
    clients.push(client)
    const torrent = await new Promise<any>((resolve, reject) => {
      client.seed(path, { announce: [announce], pieceLength, name: 'track.bin', private: false }, resolve)
      client.once('error', reject)
    })
    if (first && torrent.infoHash !== first.infoHash) throw new Error('the two webtorrent seeders made different torrents')
    first ??= torrent
  }
  return {
    announce,
    torrent: Buffer.from(first.torrentFile).toString('base64'),
    infoHash: first.infoHash,
    pieceLength: first.pieceLength,
    async close() {
      await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))))
      await new Promise<void>((resolve) => tracker.close(() => resolve()))
    },
  }
}
