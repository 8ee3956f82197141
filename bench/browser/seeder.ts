// One seeder of the browser benchmark, a process of its own (two devices are
// two processes; and bittorrent-tracker shares one WebSocket per announce
// URL among all clients of a process, so two webtorrent seeders in one
// process answer each other's offers). Config: a JSON file named by argv[2].
// Speaks JSON lines: prints {ready...} once seeding; djcloud mode reads
// {id, sdp} offers and prints {id, answer} (then {linkedMs} once the
// Swarm's device link is up). Exits when stdin closes (the benchmark died).
//   webtorrent: {mode, path, announce, pieceLength}
//   djcloud:    {mode, path, name, deviceSeed, certificate, roster, circleSecret, cacheDir} (bytes as hex)
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { createHash } from 'node:crypto'
import { verifyRoster } from '../../src/identity/index.ts'
import { metaFromTrack, Swarm } from '../../src/swarm/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'
import { acceptOffer } from '../../src/rtc/index.ts'
import { nodeRtcOptions } from '../../src/rtc-node.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
const cfg = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as Record<string, any>
const say = (m: object) => process.stdout.write(`${JSON.stringify(m)}\n`)
const lines = createInterface({ input: process.stdin })
let closing: () => Promise<void> = async () => {}
lines.on('close', () => void closing().finally(() => process.exit(0)))

if (cfg.mode === 'webtorrent') {
  const { default: WebTorrent } = (await import('webtorrent' as string)) as { default: any }
  const wrtc = await import('webrtc-polyfill')
  const client = new WebTorrent({ dht: false, lsd: false, utp: false, natUpnp: false, natPmp: false, webSeeds: false, tracker: { wrtc, rtcConfig: { iceServers: [] } } })
  client.on('error', (err: Error) => process.stderr.write(`webtorrent: ${err.message}\n`))
  closing = () => new Promise<void>((resolve) => client.destroy(() => resolve()))
  // numwant 0: the seeder announces without offers and only answers the page's, as djcloud's devices do. Offers
  // both ways cross: each side drops one of the two wires as a duplicate, and a node-datachannel offer answered by
  // Chromium connected ICE but never opened its data channel here (docs/rtc.md: a Node device does not offer to a
  // browser). With them the first wire came at the seeders' next announce, ~125 s in.
  const seedOpts = { announce: [cfg.announce], pieceLength: cfg.pieceLength, name: 'track.bin', getAnnounceOpts: () => ({ numwant: 0 }) }
  client.seed(cfg.path, seedOpts, (torrent: any) => {
    say({ ready: true, infoHash: torrent.infoHash, pieceLength: torrent.pieceLength, torrent: Buffer.from(torrent.torrentFile).toString('base64') })
  })
} else if (cfg.mode === 'djcloud') {
  const hex = (h: string) => Buffer.from(h, 'hex')
  const roster = verifyRoster(hex(cfg.roster))
  const circleSecret = hex(cfg.circleSecret)
  const bytes = await readFile(cfg.path)
  const pieceLength = pieceLengthFor(bytes.length)
  const pieces: Buffer[] = []
  for (let at = 0; at < bytes.length; at += pieceLength) pieces.push(createHash('sha1').update(bytes.subarray(at, at + pieceLength)).digest())
  const meta = metaFromTrack({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, pieceLength, pieces: Buffer.concat(pieces) }, circleSecret)
  const swarm = new Swarm({ credentials: { deviceSeed: hex(cfg.deviceSeed), certificate: hex(cfg.certificate) }, roster: () => roster, circleSecret, cacheDir: cfg.cacheDir, host: '127.0.0.1' })
  swarm.on('warning', (err: Error) => process.stderr.write(`${cfg.name}: ${err.message}\n`))
  swarm.on('refused', (_h: string, reason: string) => process.stderr.write(`${cfg.name} refused a stream: ${reason}\n`))
  await swarm.start()
  swarm.offer(meta, cfg.path)
  closing = () => swarm.close()
  const rtc = await nodeRtcOptions()
  lines.on('line', (line) => {
    const { id, sdp } = JSON.parse(line) as { id: number; sdp: string }
    const t0 = performance.now()
    acceptOffer(sdp, rtc).then(
      (answer) => {
        say({ id, answer: answer.sdp })
        answer.connection
          .then((conn) => swarm.addRtc(conn))
          .then(() => say({ linkedMs: performance.now() - t0 }), (err: Error) => process.stderr.write(`${cfg.name}: ${err.message}\n`))
      },
      (err: Error) => say({ id, error: err.message }),
    )
  })
  say({ ready: true, sha256: meta.sha256 })
} else {
  throw new Error(`unknown mode ${cfg.mode}`)
}
