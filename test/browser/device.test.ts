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
import { join } from 'node:path'
import { once } from 'node:events'
import { createHash, randomBytes } from 'node:crypto'
import { wsStreams } from '../helpers/ws-streams.ts'
import type { Duplex } from 'node:stream'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/chromium.ts'
import { makeCircle, makeDevice } from '../helpers/circle.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import {
  addDevice, encodeCertificate, issueCertificate, signRoster, decodeCertificate, type Roster,
} from '../../src/identity/index.ts'
import {
  authenticate, CompleteFile, PartialFile, DeviceChannel, deviceChannelInfoHash, encodeInfoDict, LOOKUP_EXTENSION, Torrent, type PeerSession, type TorrentMeta,
} from '../../src/swarm/index.ts'

const MB = 1024 * 1024

// The bundle as `npm test` builds it (rebuilt here when older than its sources).
const build = (await import('../../bin/build.js' as string)) as { buildBrowser(): Promise<void>; BROWSER_BUNDLE: string }
const BROWSER_BUNDLE = build.BROWSER_BUNDLE
test.before(() => build.buildBrowser())

// One Chromium for the file, a fresh context per test; the tests run one at a
// time (each has a page and Node devices busy: the machine has 2 cores).
let browser: Promise<Browser> | undefined
test.after.always(async () => {
  if (browser) await (await browser).close()
})

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
  const { handlers, close: closeStreams } = wsStreams(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  t.teardown(() => {
    closeStreams()
    return new Promise<void>((r) => server.close(() => r()))
  })
  const context = await (browser ??= launchChromium()).then((b) => b.newContext()) // its own OPFS and IndexedDB
  t.teardown(() => context.close())
  const page = await context.newPage()
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
  /** Extensions besides dj_auth (dj_lookup for the device channel). */
  extensions?: string[]
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
        { credentials: { signer: dj.cryptoKeySigner(w.key.privateKey, publicKey), certificate: B.from(a.certificate, 'hex') }, roster: () => roster, infoHash: B.from(a.infoHash, 'hex'), extensions: a.extensions ?? [] },
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
function nodeAnswer(s: Duplex, credentials: { deviceSeed: Uint8Array; certificate: Uint8Array }, roster: Roster, infoHash: Buffer, binding: Buffer, extensions: string[] = []): Promise<PeerSession> {
  return authenticate(s, { credentials, roster: () => roster, accept: (ih) => (ih.equals(infoHash) ? {} : null), binding: () => binding, remote: { host: 'page', port: 0 }, extensions })
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

test.serial('in the page, a WebCrypto Ed25519 key signs what noble (and node:crypto) sign with its seed', async (t) => {
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

test.serial('the page (a non-extractable WebCrypto key) and a Node device authenticate each other over the bundled wire', async (t) => {
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

test.serial('a forged certificate, and a device of another circle, are refused in the page', async (t) => {
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

test.serial('the page fetches a 5 MB track from a Node seeder into OPFS: every piece SHA-1-checked, the whole SHA-256 matches', async (t) => {
  const { page, transport, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const admitted = admitPage(c, await pageKey(page))
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 5 * MB + 4321, c.circleSecret)
  const seeder = new Torrent(meta, await CompleteFile.open(path, meta))
  t.teardown(() => seeder.close())
  const binding = randomBytes(32)
  const url = transport('/track', (s) => {
    nodeAnswer(s, c.devices[0]!.credentials, admitted.roster, meta.infoHash, binding).then((session) => seeder.addPeer(session), () => {})
  })
  const dial = { url, certificate: hex(admitted.certificate), roster: hex(admitted.rosterBytes), infoHash: hex(meta.infoHash), binding: hex(binding) }
  t.deepEqual(await pageDial(page, dial), { name: 'laptop', kind: 'own' })
  const r = await page.evaluate(async (m) => {
    const w = window as unknown as { dj: any; session: any; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const meta = { ...m, infoHash: B.from(m.infoHash, 'hex'), pieces: B.from(m.pieces, 'hex') }
    const store = await dj.BrowserTrackStore.open({ name: 'fetch-test' })
    const torrent = new dj.Torrent(meta, await store.fetchInto(meta))
    const warnings: string[] = []
    const verified = new Set<number>()
    torrent.on('warning', (e: Error) => warnings.push(e.message))
    torrent.on('piece', (i: number) => verified.add(i))
    const done = new Promise<string>((resolve, reject) => {
      torrent.once('done', resolve)
      torrent.once('failed', reject)
    })
    const started = performance.now()
    torrent.addPeer(w.session)
    const path = await done
    const ms = performance.now() - started
    // Read back from OPFS itself, hashed by WebCrypto: not the store's own check.
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('fetch-test')).getDirectoryHandle(m.sha256)
    const parts: ArrayBuffer[] = []
    for (let i = 0; i < m.pieceCount; i++) parts.push(await (await (await dir.getFileHandle(String(i))).getFile()).arrayBuffer())
    const whole = new Uint8Array(await new Blob(parts).arrayBuffer())
    const sha = [...new Uint8Array(await crypto.subtle.digest('SHA-256', whole))].map((b) => b.toString(16).padStart(2, '0')).join('')
    const tracks = store.tracks()
    await torrent.close()
    return { path, ms, sha, bytes: whole.length, pieces: verified.size, sources: torrent.sources(), warnings, tracks, used: store.used }
  }, metaArg(meta))
  t.log(`5 MB into OPFS in ${Math.round(r.ms)} ms`)
  t.is(r.path, `opfs:fetch-test/${meta.sha256}`)
  t.is(r.sha, meta.sha256)
  t.is(r.bytes, meta.size)
  t.is(r.pieces, meta.pieceCount)
  t.deepEqual(r.sources, { laptop: meta.size })
  t.deepEqual(r.warnings, [])
  t.like(r.tracks, [{ sha256: meta.sha256, size: meta.size, complete: true, piecesHeld: meta.pieceCount, pinned: false }])
  t.is(r.used, meta.size)
  t.deepEqual(errors, [])
})

test.serial('the OPFS store keeps to its budget: least recently used go first, never a pinned or open track; the index survives a reload', async (t) => {
  const { page, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const dir = await tempDir(t)
  const SIZE = 200 * 1024 + 17
  const tracks = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F'].map(async (name) => {
    const { bytes, meta } = await randomTrackFile(dir, SIZE, c.circleSecret)
    return { name, data: bytes.toString('hex'), meta: metaArg(meta) }
  }))
  const r = await page.evaluate(async ({ tracks, size }) => {
    const w = window as unknown as { dj: any; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const metas: Record<string, any> = Object.fromEntries(tracks.map((k) => [k.name, { ...k.meta, infoHash: B.from(k.meta.infoHash, 'hex'), pieces: B.from(k.meta.pieces, 'hex') }]))
    const data = Object.fromEntries(tracks.map((k) => [k.name, B.from(k.data, 'hex')]))
    const sha = Object.fromEntries(tracks.map((k) => [k.meta.sha256, k.name]))
    const store = await dj.BrowserTrackStore.open({ name: 'budget-test', budgetBytes: 3 * size })
    const names = () => store.tracks().map((x: { sha256: string }) => sha[x.sha256]).sort().join('')
    /** Fetched whole (pieces written as Torrent writes them, after their SHA-1), then closed. */
    const add = async (n: string, corrupt = false) => {
      const m = metas[n]
      const p = await store.fetchInto(m)
      for (let i = 0; i < m.pieceCount; i++) {
        const piece = Uint8Array.from(data[n]!.subarray(i * m.pieceLength, Math.min(m.size, (i + 1) * m.pieceLength)))
        if (corrupt && i === 1) piece[0]! ^= 0xff
        await p.writePiece(i, piece)
      }
      const { source } = await p.complete()
      await source.close()
    }
    const codeOf = (e: unknown) => (e as { code?: string }).code ?? String(e)
    const steps: Record<string, unknown> = {}
    await add('A')
    await add('B')
    await add('C')
    steps.three = names()
    await store.pin(metas.A.sha256)
    await (await store.open(metas.B)).close() // B used after C: C is now the least recently used unpinned track
    await add('D')
    steps.afterD = names() // C evicted
    await add('E')
    steps.afterE = names() // B evicted; A, the oldest, is pinned
    const openD = await store.open(metas.D)
    await store.pin(metas.E.sha256)
    steps.full = await add('F').then(() => 'added', codeOf) // A and E pinned, D open: nothing may go
    steps.afterF = names()
    const fromOpenD = B.from(await openD.readAt(0, size)).equals(data.D!)
    await openD.close()
    steps.lowered = (await store.setBudget(2 * size)).map((s: string) => sha[s]).join('') // D goes; the pinned two stay
    steps.afterLower = names()
    steps.used = store.used
    // A track whose bytes fail its SHA-256 never becomes complete.
    await store.setBudget(4 * size)
    steps.corrupt = await add('F', true).then(() => 'complete', codeOf)
    steps.corruptComplete = store.has(metas.F.sha256)
    steps.fetchedTwice = await store.fetchInto(metas.F).then(() => 'opened', codeOf) // the failed fetch is still open
    steps.evictedGone = await (await navigator.storage.getDirectory()).getDirectoryHandle('budget-test')
      .then((d) => d.getDirectoryHandle(metas.C.sha256))
      .then(() => 'still there', (e: DOMException) => e.name)
    store.close()
    // A reload: the index (tracks, pins, budget) is read back from IndexedDB.
    const again = await dj.BrowserTrackStore.open({ name: 'budget-test', budgetBytes: 1 })
    steps.reopened = again.tracks().map((x: { sha256: string; pinned: boolean; complete: boolean }) => `${sha[x.sha256]}${x.pinned ? '*' : ''}${x.complete ? '' : '?'}`).sort().join(' ')
    steps.budget = again.budget
    const readA = B.from(await (await again.open(metas.A)).readAt(1000, 70_000)).equals(data.A!.subarray(1000, 71_000))
    return { steps, fromOpenD, readA }
  }, { tracks, size: SIZE })
  t.deepEqual(r.steps, {
    three: 'ABC',
    afterD: 'ABD',
    afterE: 'ADE',
    full: 'ERR_BUDGET',
    afterF: 'ADE',
    lowered: 'D',
    afterLower: 'AE',
    used: 2 * SIZE,
    corrupt: 'ERR_VERIFY',
    corruptComplete: false,
    fetchedTwice: 'ERR_IN_USE',
    evictedGone: 'NotFoundError',
    reopened: 'A* E* F?',
    budget: 4 * SIZE,
  })
  t.true(r.fromOpenD)
  t.true(r.readA)
  t.deepEqual(errors, [])
})

test.serial('the page joins the device channel: a Node device says it holds a track, with an info dict the page checks against the circle', async (t) => {
  const { page, transport, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const admitted = admitPage(c, await pageKey(page))
  const dir = await tempDir(t)
  const { meta } = await randomTrackFile(dir, 300 * 1024, c.circleSecret)
  const channel = new DeviceChannel({ peerPort: () => 7000, answer: async (sha) => (sha === meta.sha256 ? encodeInfoDict(meta, c.circleSecret) : null), rttPingMs: 200 })
  t.teardown(() => channel.close())
  const infoHash = deviceChannelInfoHash(c.circleSecret)
  const binding = randomBytes(32)
  const url = transport('/devices', (s) => {
    nodeAnswer(s, c.devices[0]!.credentials, admitted.roster, infoHash, binding, [LOOKUP_EXTENSION]).then((session) => channel.add(session), () => {})
  })
  const dial = { url, certificate: hex(admitted.certificate), roster: hex(admitted.rosterBytes), infoHash: hex(infoHash), binding: hex(binding), extensions: [LOOKUP_EXTENSION] }
  t.deepEqual(await pageDial(page, dial), { name: 'laptop', kind: 'own' })
  const r = await page.evaluate(async ({ sha256, secret, missing }) => {
    const w = window as unknown as { dj: any; session: any; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const channel = new dj.DeviceChannel({ peerPort: () => 0, answer: async () => null, rttPingMs: 200 })
    const link = await channel.ready(channel.add(w.session))
    const holders = await channel.lookup(sha256, 5_000)
    const none = await channel.lookup(missing, 5_000)
    const meta = dj.metaFromInfoDict(holders[0].info, sha256, B.from(secret, 'hex'))
    let foreign = ''
    try {
      dj.metaFromInfoDict(holders[0].info, sha256, B.alloc(32, 7))
    } catch (err) {
      foreign = (err as Error).message
    }
    // round trips: the link's is known once two pings came back
    const started = performance.now()
    while (link.rttMs === undefined && performance.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50))
    channel.close()
    return { holders: holders.map((h: { link: { name: string; peerPort: number } }) => `${h.link.name}:${h.link.peerPort}`), none: none.length, infoHash: B.from(meta.infoHash).toString('hex'), foreign, rtt: typeof link.rttMs }
  }, { sha256: meta.sha256, secret: hex(c.circleSecret), missing: 'ab'.repeat(32) })
  t.deepEqual(r, { holders: ['laptop:7000'], none: 0, infoHash: hex(meta.infoHash), foreign: 'the info dict is not of this circle', rtt: 'number' })
  t.deepEqual(errors, [])
})

test.serial('a fetch stopped part-way resumes after a reload: its pieces in OPFS are checked again (a damaged one is fetched again), and two Node seeders finish it', async (t) => {
  const { page, transport, errors } = await servePage(t)
  const c = makeCircle(['laptop', 'nas'])
  const admitted = admitPage(c, await pageKey(page))
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 5 * MB, c.circleSecret)
  const binding = randomBytes(32)
  const dials = await Promise.all(c.devices.map(async (d) => {
    const seeder = new Torrent(meta, await CompleteFile.open(path, meta))
    t.teardown(() => seeder.close())
    const url = transport(`/${d.certificate.name}`, (s) => {
      nodeAnswer(s, d.credentials, admitted.roster, meta.infoHash, binding).then((session) => seeder.addPeer(session), () => {})
    })
    return { name: d.certificate.name, dial: { url, certificate: hex(admitted.certificate), roster: hex(admitted.rosterBytes), infoHash: hex(meta.infoHash), binding: hex(binding) } }
  }))
  /** Dials one seeder from the page; the session waits in window.sessions[name]. */
  const dialSeeder = async (k: (typeof dials)[number]) => {
    t.deepEqual(await pageDial(page, k.dial), { name: k.name, kind: 'own' })
    await page.evaluate((name) => {
      const w = window as unknown as { session: unknown; sessions?: Record<string, unknown> }
      ;(w.sessions ??= {})[name] = w.session
    }, k.name)
  }
  await dialSeeder(dials[0]!)
  const first = await page.evaluate(async (m) => {
    const w = window as unknown as { dj: any; sessions: Record<string, any>; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const meta = { ...m, infoHash: B.from(m.infoHash, 'hex'), pieces: B.from(m.pieces, 'hex') }
    const store = await dj.BrowserTrackStore.open({ name: 'resume-test' })
    const torrent = new dj.Torrent(meta, await store.fetchInto(meta))
    const got: number[] = []
    await new Promise<void>((resolve) => {
      torrent.on('piece', (i: number) => {
        got.push(i)
        if (got.length === 20) resolve()
      })
      torrent.addPeer(w.sessions.laptop)
    })
    await torrent.close() // a reload: the partial track's pieces and index are kept
    store.close()
    // Damage one piece the index lists, behind the store's back.
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('resume-test')).getDirectoryHandle(m.sha256)
    const writable = await (await dir.getFileHandle(String(got[3]))).createWritable({ keepExistingData: true })
    await writable.write({ type: 'write', position: 100, data: new Uint8Array([1, 2, 3]) })
    await writable.close()
    return { damaged: got[3]!, held: store.tracks()[0].piecesHeld as number }
  }, metaArg(meta))
  t.true(first.held >= 20)
  t.true(first.held < meta.pieceCount)
  for (const k of dials) await dialSeeder(k) // one at a time: each leaves its session in window.session
  const r = await page.evaluate(async (m) => {
    const w = window as unknown as { dj: any; sessions: Record<string, any>; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const meta = { ...m, infoHash: B.from(m.infoHash, 'hex'), pieces: B.from(m.pieces, 'hex') }
    const store = await dj.BrowserTrackStore.open({ name: 'resume-test' })
    const partial = await store.fetchInto(meta)
    const unverified = partial.unverifiedCount as number
    const torrent = new dj.Torrent(meta, partial)
    const corrupt: number[] = []
    const warnings: string[] = []
    torrent.on('corrupt', (i: number) => corrupt.push(i))
    torrent.on('warning', (e: Error) => warnings.push(e.message))
    const done = new Promise<string>((resolve, reject) => {
      torrent.once('done', resolve)
      torrent.once('failed', reject)
    })
    torrent.addPeer(w.sessions.laptop)
    torrent.addPeer(w.sessions.nas)
    await done
    const source = await store.open(meta)
    const whole = await source.readAt(0, meta.size)
    const sha = [...new Uint8Array(await crypto.subtle.digest('SHA-256', whole))].map((b) => b.toString(16).padStart(2, '0')).join('')
    await source.close()
    const sources = torrent.sources()
    await torrent.close()
    return { unverified, corrupt, warnings, sha, sources, complete: store.has(m.sha256) }
  }, metaArg(meta))
  t.is(r.unverified, first.held)
  t.deepEqual(r.corrupt, [first.damaged])
  t.deepEqual(r.warnings, [])
  t.is(r.sha, meta.sha256)
  t.true(r.complete)
  // what the first run held was kept (checked, not fetched again), but the damaged piece
  const fetched = Object.values(r.sources as Record<string, number>).reduce((a, b) => a + b, 0)
  t.is(fetched, meta.size - (first.held - 1) * meta.pieceLength)
  t.deepEqual(Object.keys(r.sources).sort(), ['laptop', 'nas'])
  t.deepEqual(errors, [])
})

test.serial('a Node device fetches a track only the page holds, served by the page from OPFS', async (t) => {
  const { page, transport, errors } = await servePage(t)
  const c = makeCircle(['laptop', 'nas'])
  const admitted = admitPage(c, await pageKey(page))
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 3 * MB + 99, c.circleSecret)
  const binding = randomBytes(32)
  const dialArgs = (url: string) => ({ url, certificate: hex(admitted.certificate), roster: hex(admitted.rosterBytes), infoHash: hex(meta.infoHash), binding: hex(binding) })
  // 1. The page fetches the track from the laptop, which then goes away.
  const laptop = new Torrent(meta, await CompleteFile.open(path, meta))
  const fromLaptop = transport('/laptop', (s) => {
    nodeAnswer(s, c.devices[0]!.credentials, admitted.roster, meta.infoHash, binding).then((session) => laptop.addPeer(session), () => {})
  })
  t.deepEqual(await pageDial(page, dialArgs(fromLaptop)), { name: 'laptop', kind: 'own' })
  await page.evaluate(async (m) => {
    const w = window as unknown as { dj: any; session: any; seeding: any; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const meta = { ...m, infoHash: B.from(m.infoHash, 'hex'), pieces: B.from(m.pieces, 'hex') }
    const store = await dj.BrowserTrackStore.open({ name: 'serve-test' })
    const fetching = new dj.Torrent(meta, await store.fetchInto(meta))
    const done = new Promise((resolve, reject) => {
      fetching.once('done', resolve)
      fetching.once('failed', reject)
    })
    fetching.addPeer(w.session)
    await done
    await fetching.close()
    // 2. What a device serves from: the whole track, opened from the store.
    w.seeding = new dj.Torrent(meta, await store.open(meta))
  }, metaArg(meta))
  await laptop.close()
  // 3. The nas has only the page to fetch from.
  const nas = new Torrent(meta, await PartialFile.open(join(dir, 'nas-cache'), meta))
  t.teardown(() => nas.close())
  const done = once(nas, 'done')
  const fromNas = transport('/nas', (s) => {
    nodeAnswer(s, c.devices[1]!.credentials, admitted.roster, meta.infoHash, binding).then((session) => nas.addPeer(session), () => {})
  })
  t.deepEqual(await pageDial(page, dialArgs(fromNas)), { name: 'nas', kind: 'own' })
  await page.evaluate(() => {
    const w = window as unknown as { session: unknown; seeding: { addPeer(s: unknown): void } }
    w.seeding.addPeer(w.session)
  })
  const [final] = await done
  const got = await readFile(final as string)
  t.is(createHash('sha256').update(got).digest('hex'), meta.sha256)
  t.true(got.equals(bytes))
  t.deepEqual(nas.sources(), { 'phone-browser': meta.size })
  t.deepEqual(errors, [])
})

test.serial('a fetch into OPFS hashes the whole track as pieces are written: complete() reads back only what the prefix did not reach', async (t) => {
  const { page, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 40 * 64 * 1024 + 77, c.circleSecret) // 41 pieces of 64 KiB
  const r = await page.evaluate(async ({ m, data }) => {
    const w = window as unknown as { dj: any; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const meta = { ...m, infoHash: B.from(m.infoHash, 'hex'), pieces: B.from(m.pieces, 'hex') }
    const all = B.from(data, 'hex')
    const piece = (i: number) => Uint8Array.from(all.subarray(i * m.pieceLength, Math.min(m.size, (i + 1) * m.pieceLength)))
    const store = await dj.BrowserTrackStore.open({ name: 'prefix-test' })
    const steps: Record<string, unknown> = {}
    // Out of order, as two peers deliver: 1 before 0, 3 before 2; the prefix catches up with what waited.
    const p = await store.fetchInto(meta)
    const order = [1, 0, 3, 2, ...Array.from({ length: m.pieceCount - 4 }, (_, k) => k + 4)]
    for (const [k, i] of order.entries()) {
      await p.writePiece(i, piece(i))
      if (k === 0) steps.afterOne = p.hashedPieces
      if (k === 1) steps.afterZero = p.hashedPieces
    }
    steps.beforeComplete = p.hashedPieces
    // Complete without reading a piece back: the OPFS files are damaged behind the store's back and it still matches,
    // since every byte was hashed as written (a stored piece damaged later is caught by reverify after a reload).
    const dirH = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('prefix-test')).getDirectoryHandle(m.sha256)
    const writable = await (await dirH.getFileHandle('5')).createWritable({ keepExistingData: true })
    await writable.write({ type: 'write', position: 10, data: new Uint8Array([1, 2, 3]) })
    await writable.close()
    steps.completed = await p.complete().then((x: { path: string; source: { close(): Promise<void> } }) => x.source.close().then(() => x.path), (e: { code?: string }) => e.code ?? String(e))
    store.close()
    return steps
  }, { m: metaArg(meta), data: bytes.toString('hex') })
  t.deepEqual(r, { afterOne: 0, afterZero: 2, beforeComplete: meta.pieceCount, completed: `opfs:prefix-test/${meta.sha256}` })
  t.deepEqual(errors, [])
})

test.serial('a fetch writes at most four pieces to OPFS at once, so a read of a held piece does not wait behind the rest', async (t) => {
  const { page, errors } = await servePage(t)
  const c = makeCircle(['laptop'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 40 * 64 * 1024 + 77, c.circleSecret) // 41 pieces of 64 KiB
  const r = await page.evaluate(async ({ m, data }) => {
    const w = window as unknown as { dj: any; Buffer: typeof Buffer }
    const { dj, Buffer: B } = w
    const meta = { ...m, infoHash: B.from(m.infoHash, 'hex'), pieces: B.from(m.pieces, 'hex') }
    const all = B.from(data, 'hex')
    const piece = (i: number) => Uint8Array.from(all.subarray(i * m.pieceLength, Math.min(m.size, (i + 1) * m.pieceLength)))
    // Writes in flight, counted where OPFS is called.
    let open = 0
    let most = 0
    const proto = FileSystemFileHandle.prototype as unknown as { createWritable: (...a: unknown[]) => Promise<FileSystemWritableFileStream> }
    const create = proto.createWritable
    proto.createWritable = async function (this: FileSystemFileHandle, ...a: unknown[]) {
      const ws = await create.apply(this, a)
      most = Math.max(most, ++open)
      const close = ws.close.bind(ws)
      ws.close = () => close().finally(() => open--)
      return ws
    }
    const store = await dj.BrowserTrackStore.open({ name: 'write-turns' })
    const p = await store.fetchInto(meta)
    await p.writePiece(0, piece(0))
    let written = 0
    const writes = Array.from({ length: m.pieceCount - 1 }, (_, k) => p.writePiece(k + 1, piece(k + 1)).then(() => written++))
    const read = await p.readAt(0, m.pieceLength)
    const writtenAtRead = written
    await Promise.all(writes)
    proto.createWritable = create
    const readOk = B.from(read).equals(all.subarray(0, m.pieceLength))
    const done = await p.complete().then((x: { source: { close(): Promise<void> } }) => x.source.close().then(() => true))
    store.close()
    return { most, writtenAtRead, readOk, done, fast: await dj.loadFastHashes() }
  }, { m: metaArg(meta), data: bytes.toString('hex') })
  t.is(r.most, 4, 'four writes at once, never more')
  t.true(r.writtenAtRead < meta.pieceCount - 1 - 4, `the read came back after ${r.writtenAtRead} of ${meta.pieceCount - 1} writes`)
  t.true(r.readOk)
  t.true(r.done)
  t.true(r.fast, 'WebAssembly hashes load in the page')
  t.deepEqual(errors, [])
})
