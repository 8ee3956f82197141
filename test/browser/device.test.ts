/// <reference lib="dom" />
// The browser device's protocol bundle (dist/browser/djcloud-device.js) in
// real Chromium against real Node devices, over a WebSocket on 127.0.0.1 as
// the transport for now (the same message-stream adapter a WebRTC data
// channel takes): dj_auth with a non-extractable WebCrypto key both ways, a
// forged or foreign certificate refused in the page, a 5 MB track fetched by
// the page's Torrent into OPFS whose SHA-256 matches, and the OPFS store's
// budget evicting least recently used tracks and never a pinned or open one.
import test, { type ExecutionContext } from 'ava'
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { createHash, randomBytes } from 'node:crypto'
import { WebSocketServer, createWebSocketStream, type WebSocket as NodeWebSocket } from 'ws'
import type { Duplex } from 'node:stream'
import type { Page } from 'playwright-core'
import { launchChromium } from '../helpers/chromium.ts'
import { makeCircle, makeDevice } from '../helpers/circle.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import {
  addDevice, encodeCertificate, issueCertificate, signRoster, decodeCertificate, type Roster,
} from '../../src/identity/index.ts'
import { authenticate, CompleteFile, Torrent, type PeerSession, type TorrentMeta } from '../../src/swarm/index.ts'

const MB = 1024 * 1024

// The bundle as `npm test` builds it (rebuilt here when older than its sources).
const build = (await import('../../bin/build.js' as string)) as { buildBrowser(): Promise<void>; BROWSER_BUNDLE: string }
const BROWSER_BUNDLE = build.BROWSER_BUNDLE
test.before(() => build.buildBrowser())

interface Served {
  page: Page
  /** ws://127.0.0.1:<port>/<path>: the page connects there; `onStream` gets the Node end. */
  transport(path: string, onStream: (s: Duplex) => void): string
  errors: string[]
}

/** A page on 127.0.0.1 (a secure context: OPFS and WebCrypto work) with the bundle loaded as `window.dj`. */
async function servePage(t: ExecutionContext): Promise<Served> {
  const bundle = await readFile(BROWSER_BUNDLE)
  const server = createServer((req, res) => {
    if (req.url === '/djcloud-device.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    if (req.url === '/') {
      return void res.writeHead(200, { 'content-type': 'text/html' })
        // __name: tsx compiles this file keeping function names, and the functions handed to page.evaluate carry its calls.
        .end("<!doctype html><script>window.__name = (f) => f</script><script type=module>import * as dj from '/djcloud-device.js'; window.dj = dj</script>")
    }
    res.writeHead(404).end()
  })
  const wss = new WebSocketServer({ server })
  const handlers = new Map<string, (s: Duplex) => void>()
  wss.on('connection', (ws: NodeWebSocket, req) => {
    const onStream = handlers.get(req.url ?? '')
    if (!onStream) return ws.close()
    const s = createWebSocketStream(ws)
    s.on('error', () => {})
    onStream(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  t.teardown(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    return new Promise<void>((r) => server.close(() => r()))
  })
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(`http://127.0.0.1:${port}/`)
  await page.waitForFunction(() => 'dj' in window)
  return {
    page,
    errors,
    transport(path, onStream) {
      handlers.set(path, onStream)
      return `ws://127.0.0.1:${port}${path}`
    },
  }
}

/** A device key made in the page (WebCrypto Ed25519, not extractable); its raw public key. */
async function pageKey(page: Page): Promise<Uint8Array> {
  const hex = await page.evaluate(async () => {
    const kp = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    ;(window as unknown as { key: CryptoKeyPair }).key = kp
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey))
    return [...raw].map((b) => b.toString(16).padStart(2, '0')).join('')
  })
  return Buffer.from(hex, 'hex')
}

/** The circle with the page's key as a device ('phone-browser'): its certificate and the signed roster. */
function admitPage(c: ReturnType<typeof makeCircle>, publicKey: Uint8Array): { certificate: Uint8Array; roster: Roster; rosterBytes: Uint8Array } {
  const cert = issueCertificate(c.owner.seed, { owner: c.owner.publicKey, device: publicKey, name: 'phone-browser', role: 'member', created: Date.now() })
  const roster = addDevice(c.roster, cert)
  return { certificate: encodeCertificate(cert), roster, rosterBytes: signRoster(roster, c.owner.seed) }
}

interface DialArgs {
  url: string
  certificate: string
  roster: string
  infoHash: string
  binding: string
}

/**
 * In the page: open the transport, authenticate as the dialler with the
 * page's WebCrypto key. Leaves the session in window.session; returns the
 * verified peer's name, or the failure's reason.
 */
function pageDial(page: Page, args: DialArgs): Promise<{ name?: string; kind?: string; reason?: string }> {
  return page.evaluate(async (a) => {
    const w = window as unknown as { dj: any; key: CryptoKeyPair; session: unknown; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const ws = new WebSocket(a.url)
    ws.binaryType = 'arraybuffer'
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true })
      ws.addEventListener('error', reject, { once: true })
    })
    const roster = dj.verifyRoster(B.from(a.roster, 'hex'))
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', w.key.publicKey))
    try {
      const session = await dj.authenticateWire(
        dj.messageStream(ws),
        { credentials: { signer: dj.cryptoKeySigner(w.key.privateKey, publicKey), certificate: B.from(a.certificate, 'hex') }, roster: () => roster, infoHash: B.from(a.infoHash, 'hex') },
        { binding: () => B.from(a.binding, 'hex'), remote: { host: 'node', port: 0 } },
      )
      w.session = session
      return { name: session.peer.certificate.name as string, kind: session.peer.kind as string }
    } catch (err) {
      return { reason: (err as { reason?: string }).reason ?? String(err) }
    }
  }, args)
}

/** The Node end: authenticate the page over the stream as the answering side. */
function nodeAnswer(s: Duplex, credentials: { deviceSeed: Uint8Array; certificate: Uint8Array }, roster: Roster, infoHash: Buffer, binding: Buffer): Promise<PeerSession> {
  return authenticate(s, { credentials, roster: () => roster, accept: (ih) => (ih.equals(infoHash) ? {} : null), binding: () => binding, remote: { host: 'page', port: 0 } })
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

test('in the page, a WebCrypto Ed25519 key signs what noble (and node:crypto) sign with its seed', async (t) => {
  const { page, errors } = await servePage(t)
  const r = await page.evaluate(async () => {
    const dj = (window as unknown as { dj: any }).dj
    const kp = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair
    const seed = new Uint8Array(await crypto.subtle.exportKey('pkcs8', kp.privateKey)).slice(-32)
    const msg = crypto.getRandomValues(new Uint8Array(300))
    const web = new Uint8Array(await crypto.subtle.sign('Ed25519', kp.privateKey, msg))
    const noble = dj.signBytes(seed, msg) as Uint8Array
    const h = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
    return { seed: h(seed), msg: h(msg), web: h(web), noble: h(noble), pub: h(new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey))) }
  })
  t.is(r.web, r.noble)
  const { signBytes, keyPairFromSeed } = await import('../../src/identity/index.ts')
  t.is(hex(signBytes(Buffer.from(r.seed, 'hex'), Buffer.from(r.msg, 'hex'))), r.web)
  t.is(hex(keyPairFromSeed(Buffer.from(r.seed, 'hex')).publicKey), r.pub)
  t.deepEqual(errors, [])
})

test('the page (a non-extractable WebCrypto key) and a Node device authenticate each other over the bundled wire', async (t) => {
  const { page, transport, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const admitted = admitPage(c, await pageKey(page))
  const infoHash = randomBytes(20)
  const binding = randomBytes(32)
  const nodeSide = new Promise<PeerSession>((resolve, reject) => {
    const url = transport('/wire', (s) => nodeAnswer(s, c.devices[0]!.credentials, admitted.roster, infoHash, binding).then(resolve, reject))
    void pageDial(page, { url, certificate: hex(admitted.certificate), roster: hex(admitted.rosterBytes), infoHash: hex(infoHash), binding: hex(binding) }).then((r) => (pageSide = r))
  })
  let pageSide: Awaited<ReturnType<typeof pageDial>> | undefined
  const session = await nodeSide
  t.teardown(() => session.wire.destroy())
  t.is(session.peer.certificate.name, 'phone-browser')
  t.is(session.peer.kind, 'own')
  t.deepEqual(await until(async () => pageSide), { name: 'laptop', kind: 'own' })
  // the page's proof was signed by its WebCrypto key: the certificate's device key is that key
  t.is(hex(session.peer.certificate.device), hex(decodeCertificate(admitted.certificate).device))
  // and messages flow both ways on the authenticated wire
  const have = once(session.wire, 'have')
  session.wire.resume()
  await page.evaluate(() => {
    const s = (window as unknown as { session: { wire: { resume(): void; have(i: number): void } } }).session
    s.wire.resume()
    s.wire.have(42)
  })
  t.deepEqual(await have, [42])
  t.deepEqual(errors, [])
})

test('a forged certificate, and a device of another circle, are refused in the page', async (t) => {
  const { page, transport, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const admitted = admitPage(c, await pageKey(page))
  const thief = makeDevice(c.owner, 'thief') // its key; the forged certificate claims the laptop's name with the thief's key
  const laptopCert = c.devices[0]!.certificate
  const forged = encodeCertificate({ ...laptopCert, device: thief.key.publicKey })
  const stranger = makeCircle(['stranger']).devices[0]!
  const cases = [
    { name: 'forged', credentials: { deviceSeed: thief.key.seed, certificate: forged }, reason: 'bad-certificate' },
    { name: 'stranger', credentials: stranger.credentials, reason: 'unknown-owner' },
  ]
  for (const k of cases) {
    const infoHash = randomBytes(20)
    const binding = randomBytes(32)
    const url = transport(`/${k.name}`, (s) => void nodeAnswer(s, k.credentials, admitted.roster, infoHash, binding).catch(() => {}))
    const r = await pageDial(page, { url, certificate: hex(admitted.certificate), roster: hex(admitted.rosterBytes), infoHash: hex(infoHash), binding: hex(binding) })
    t.deepEqual(r, { reason: k.reason }, k.name)
  }
  t.deepEqual(errors, [])
})

/** TorrentMeta as JSON for the page. */
const metaArg = (m: TorrentMeta) => ({ infoHash: hex(m.infoHash), sha256: m.sha256, size: m.size, pieceLength: m.pieceLength, pieces: hex(m.pieces), pieceCount: m.pieceCount })
