/// <reference lib="dom" />
// A stranger's stock webtorrent in a browser page, given a circle's track
// exactly as a device has it, gets 0 bytes (issue 15; the Node-side version
// with libtorrent, webtorrent and aria2c is test/swarm/strangers.test.ts).
//
// Two real `djcloud serve` processes on 127.0.0.1 hold the track (one runs
// the circle's tracker). A page in Debian's Chromium, not paired, served by
// a plain static server on 127.0.0.1, imports node_modules/webtorrent's
// browser build and is given the track's .torrent: the info dict node A's
// library makes (its infohash checked against the library record),
// announcing to the circle's tracker (wss://), node A's /api/signal and a
// plain bittorrent-tracker WebSocket server on 127.0.0.1 (where nothing of
// the circle announces). It tries for 15 s and ends with 0 bytes, no wire
// and no peer. Where it was refused:
// - the circle's tracker: the browser's TLS to it never completes (the
//   tracker's certificate is a self-signed device key), so nothing reaches
//   the admission (/stats.json refusals unchanged); the stranger's own
//   announce replayed from Node past TLS is refused `missing proof` and
//   counted in /stats.json;
// - /api/signal: refused at the upgrade (403: the page is of another
//   origin); the same announce from the node's own origin is refused for
//   want of a token;
// - the plain tracker: it answers, with no peer but the stranger.
// Control: the same page and client first download a torrent from a plain
// Node webtorrent seeder (WebRTC, libdatachannel) through the plain tracker,
// so 0 bytes is not webtorrent failing in this harness; and at the end,
// once that seeder has the circle's track too, the same page downloads it
// with the same .torrent (its `private` flag and circle tag stop nothing:
// only the circle's refusals do).
import test from 'ava'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server as HttpServer } from 'node:http'
import { get as httpsGet } from 'node:https'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import WebSocket from 'ws'
import { loadIdentity } from '../../src/identity/index.ts'
import { openLibrary } from '../../src/library/index.ts'
import { encodeInfoDict, metaFromTrack } from '../../src/swarm/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, withLogs } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { loadWebTorrent } from '../helpers/strangers.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const TRY_MS = 15_000
const WEBTORRENT_JS = new URL('../../node_modules/webtorrent/dist/webtorrent.min.js', import.meta.url)

interface TrackerStats {
  swarms: number
  peers: number
  admitted: number
  refusals: Record<string, number>
}

/** The circle tracker's public counts (any certificate: counts are public). */
function trackerStats(announceUrl: string): Promise<TrackerStats> {
  return new Promise((resolve, reject) => {
    httpsGet(new URL('/stats.json', announceUrl), { rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as TrackerStats))
    }).on('error', reject)
  })
}

const listen = (s: HttpServer) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)))

/** The page's report on one torrent (webtorrent 3's counters). */
interface PageReport {
  downloaded: number
  received: number
  progress: number
  wires: number
  wiresWithContent: number
  peersSeen: number
  warnings: string[]
  done: boolean
  digest?: string
}

test("a stranger's stock webtorrent in a page gets 0 bytes of a circle's track from any announce URL, while the same page downloads from a plain webtorrent seeder", async (t) => {
  t.timeout(240_000)
  const root = await tempDir(t)
  const [homeA, homeB] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  const song = await writeNoiseWav(join(music, 'noise.wav'), 2 * 1024 * 1024, 23)
  const bytes = await readFile(song)
  await scanHome(homeA!, music)
  await scanHome(homeB!, music)
  // The track's torrent as the node has it: the piece length of node A's library record, and the
  // infohash computed here is the one that record carries (read before A starts).
  const { circleSecret } = await loadIdentity(homeA!)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const lib = await openLibrary(homeA!, { circleSecret })
  const record = await lib.track(sha256)
  await lib.close()
  if (!record) throw new Error('node A has no library record of the track')
  const pieces: Buffer[] = []
  for (let at = 0; at < bytes.length; at += record.pieceLength) pieces.push(createHash('sha1').update(bytes.subarray(at, at + record.pieceLength)).digest())
  const meta = metaFromTrack({ sha256, size: record.size, pieceLength: record.pieceLength, pieces: Buffer.concat(pieces) }, circleSecret)
  t.is(record.infohash, meta.infoHash.toString('hex'), "the torrent's infohash is the one in the node's library")
  const a = await serveNode(t, homeA!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  const b = await serveNode(t, homeB!, ['--tracker', a.info.tracker!])
  const nodes = { A: a, B: b }
  const infoHash = meta.infoHash.toString('hex')

  // A plain bittorrent-tracker WebSocket server: only the stranger (and the control) announce there.
  const { Server: TrackerServer } = (await import('bittorrent-tracker' as string)) as { Server: new (o: object) => any }
  const plain = new TrackerServer({ udp: false, http: false, ws: true, stats: false, trustProxy: false })
  const plainAnnounces: string[] = []
  plain.on('start', (_addr: string, params: { info_hash: string }) => plainAnnounces.push(params.info_hash))
  plain.on('warning', () => {})
  plain.on('error', () => {})
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  // The stranger's announces as sent, to replay them past TLS and past the origin check below.
  const rawAnnounces: string[] = []
  plain.ws.on('connection', (socket: WebSocket) => socket.on('message', (data) => rawAnnounces.push(data.toString())))
  t.teardown(() => new Promise<void>((resolve) => plain.close(() => resolve())))
  const plainUrl = `ws://127.0.0.1:${(plain.ws.address() as AddressInfo).port}`

  const circleWss = `wss://${new URL(a.info.tracker!).host}`
  const signalUrl = `${a.info.api.replace(/^http/, 'ws')}/api/signal`
  const announce = [circleWss, signalUrl, plainUrl]
  // Keys in bencode order; the info dict exactly as the nodes encode it.
  const str = (s: string) => `${Buffer.byteLength(s)}:${s}`
  const torrentFile = Buffer.concat([
    Buffer.from(`d${str('announce')}${str(announce[0]!)}${str('announce-list')}l${announce.map((u) => `l${str(u)}e`).join('')}e${str('info')}`),
    encodeInfoDict(meta, circleSecret),
    Buffer.from('e'),
  ])
  t.log(`announce: ${announce.join(' ')}; infohash ${infoHash}`)

  // Control: a plain webtorrent seeder in Node (WebRTC through webrtc-polyfill) on the plain tracker. It
  // sends no offers of its own (numwant 0), only answers the page's: an offer from libdatachannel that
  // carries candidates loses a race with the answerer's checks (docs/rtc.md), the page's offers do not.
  const WebTorrent = await loadWebTorrent()
  const wrtc = await import('webrtc-polyfill' as string)
  const seeder = new WebTorrent({ dht: false, lsd: false, utPex: false, natUpnp: false, natPmp: false, torrentPort: 0, tracker: { wrtc } }) as any
  seeder.on('error', () => {})
  t.teardown(() => new Promise<void>((resolve) => seeder.destroy(() => resolve())))
  const control = randomBytes(600 * 1024 + 5)
  const controlSha = createHash('sha256').update(control).digest('hex')
  const controlTorrent = await new Promise<Buffer>((resolve) => {
    const tor = seeder.seed(control, { name: 'control.bin', announce: [plainUrl], path: join(root, 'seed'), getAnnounceOpts: () => ({ numwant: 0 }) }, (x: { torrentFile: Buffer }) => resolve(Buffer.from(x.torrentFile)))
    tor.on('warning', () => {})
  })

  // The stranger's page: a static server on 127.0.0.1 (not the node's origin), stock webtorrent.
  const wtJs = await readFile(WEBTORRENT_JS)
  const statics = createServer((req, res) => {
    if (req.url === '/webtorrent.min.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(wtJs)
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>stranger</title><script type="module">import WebTorrent from "/webtorrent.min.js"; window.WebTorrent = WebTorrent</script>')
  })
  const staticPort = await listen(statics)
  t.teardown(() => new Promise<void>((resolve) => statics.close(() => resolve())))

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await (await browser.newContext()).newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.addInitScript({ content: 'window.__name = (f) => f' })
  await page.goto(`http://127.0.0.1:${staticPort}/`)
  await page.waitForFunction(() => 'WebTorrent' in window)

  /** Adds a torrent in the page's one client and reports after `ms` or when done. */
  const tryTorrent = (torrent: Buffer, ms: number) =>
    page.evaluate(
      async ({ hex, ms }) => {
        const w = window as unknown as { WebTorrent: any; client?: any }
        w.client ??= new w.WebTorrent()
        const file = new Uint8Array(hex.match(/../g)!.map((x) => parseInt(x, 16)))
        const warnings: string[] = []
        const wires: any[] = []
        const peers = new Set<string>()
        const tor = w.client.add(file, { announce: [] })
        tor.on('warning', (e: unknown) => warnings.push(String((e as Error)?.message ?? e)))
        tor.on('error', (e: unknown) => warnings.push(`error: ${String((e as Error)?.message ?? e)}`))
        tor.on('wire', (wire: any) => wires.push(wire))
        tor.on('peer', (p: any) => peers.add(String(p?.id ?? p)))
        const done = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms)
          tor.on('done', () => (clearTimeout(timer), resolve(true)))
        })
        let digest: string | undefined
        if (done) {
          const blob = await tor.files[0].blob()
          digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))].map((b) => b.toString(16).padStart(2, '0')).join('')
        }
        const report = {
          downloaded: tor.downloaded as number,
          received: tor.received as number,
          progress: tor.progress as number,
          wires: wires.length,
          wiresWithContent: wires.filter((x) => x.downloaded > 0).length,
          peersSeen: peers.size,
          warnings,
          done,
          digest,
        }
        tor.destroy()
        return report
      },
      { hex: torrent.toString('hex'), ms },
    ) as Promise<PageReport>

  // The harness works: the page downloads the control torrent from the plain seeder.
  const ok = await tryTorrent(controlTorrent, 60_000)
  t.log(`control: ${JSON.stringify(ok)}`)
  t.true(ok.done, 'the control torrent downloaded')
  t.is(ok.digest, controlSha)
  t.true(ok.wiresWithContent >= 1)
  t.deepEqual(ok.warnings, [])

  // The circle's track: both nodes hold it and announce it to the circle's tracker.
  const before = await until(async () => {
    const s = await trackerStats(a.info.tracker!)
    return s.admitted > 0 ? s : undefined
  }, 60_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  const stranger = await tryTorrent(torrentFile, TRY_MS)
  const after = await trackerStats(a.info.tracker!)
  t.log(`stranger: ${JSON.stringify(stranger)}`)
  t.log(`circle tracker /stats.json before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`)
  t.deepEqual(errors, [])

  // 0 bytes, no wire, no peer.
  t.is(stranger.done, false)
  t.is(stranger.downloaded, 0)
  t.is(stranger.received, 0)
  t.is(stranger.progress, 0)
  t.is(stranger.wires, 0)
  t.is(stranger.wiresWithContent, 0)
  t.is(stranger.peersSeen, 0)

  // Where it was refused. The circle's tracker: the browser never got a WebSocket to it.
  t.true(stranger.warnings.some((w) => w.includes(circleWss)), `the circle's tracker failed in the page: ${JSON.stringify(stranger.warnings)}`)
  // /api/signal: refused at the upgrade (another origin), seen in the page as a failed WebSocket.
  t.true(stranger.warnings.some((w) => w.includes(signalUrl)), `/api/signal failed in the page: ${JSON.stringify(stranger.warnings)}`)
  // The plain tracker heard the stranger's announce for the track, and nothing of the circle was there.
  t.true(plainAnnounces.includes(infoHash), 'the stranger announced the track to the plain tracker')
  const swarm = plain.torrents[infoHash] as { peers: { length: number } } | undefined
  t.true((swarm?.peers.length ?? 0) <= 1, 'the plain tracker had no peer for the track but the stranger')

  // Nothing of the page reached the circle's tracker's admission (its TLS never completed).
  t.deepEqual(after.refusals, before.refusals)

  // Past TLS (from Node, the tracker's key not checked) the stranger's own announce is refused and counted.
  const announceOfStranger = rawAnnounces.find((m) => {
    const msg = JSON.parse(m) as { action?: string; info_hash?: string }
    return msg.action === 'announce' && Buffer.from(msg.info_hash ?? '', 'latin1').toString('hex') === infoHash
  })
  t.truthy(announceOfStranger, 'the plain tracker got the stranger\'s announce')
  /** Opens a WebSocket, sends the stranger's announce, and says what came back. */
  const replay = (url: string, opts: WebSocket.ClientOptions) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(url, opts)
      ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`))
      ws.on('error', (err) => resolve(`error ${err.message}`))
      ws.on('open', () => ws.send(announceOfStranger!))
      ws.on('message', (data) => (resolve(`message ${data.toString()}`), ws.close()))
      ws.on('close', (code) => resolve(`closed ${code}`))
    })
  const atTracker = await replay(circleWss, { rejectUnauthorized: false })
  const refusedStats = await trackerStats(a.info.tracker!)
  t.log(`the stranger's announce at the circle's tracker: ${atTracker}; refusals ${JSON.stringify(refusedStats.refusals)}`)
  t.regex(atTracker, /failure reason/)
  t.is(refusedStats.refusals['missing proof'], (before.refusals['missing proof'] ?? 0) + 1)

  // /api/signal: the page's origin is refused at the upgrade; from the node's own origin the same
  // announce is refused for want of a token.
  t.is(await replay(signalUrl, { origin: `http://127.0.0.1:${staticPort}` }), 'http 403')
  t.is(await replay(signalUrl, { origin: a.info.api }), 'message {"failure reason":"this token is not accepted here"}')

  // And the .torrent itself works in webtorrent (its `private` flag and circle tag stop nothing): once a
  // plain seeder has the track on the plain tracker, the same page downloads all of it.
  await mkdir(join(root, 'plain-seed'))
  await copyFile(song, join(root, 'plain-seed', sha256))
  await new Promise((resolve) => seeder.add(torrentFile, { path: join(root, 'plain-seed'), getAnnounceOpts: () => ({ numwant: 0 }) }, resolve))
  const leaked = await tryTorrent(torrentFile, 60_000)
  t.log(`the same .torrent with a plain seeder: ${JSON.stringify({ ...leaked, warnings: leaked.warnings.length })}`)
  t.true(leaked.done)
  t.is(leaked.digest, sha256)
  t.is(leaked.downloaded, bytes.length)
})
