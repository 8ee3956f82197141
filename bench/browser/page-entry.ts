/// <reference lib="dom" />
// What the benchmark's page runs (bundled by esbuild with src/rtc for the
// browser platform, page-server.ts): a download with stock webtorrent, and
// the same download with the djcloud browser device (dist/browser's
// protocol bundle as `window.dj`, src/rtc's PeerConnection and Mux), both
// into OPFS. The page offers, the Node devices answer (docs/rtc.md); the
// signaling goes through the harness (`benchSignal`, a playwright binding).
import { createOffer, type MuxStream, type RtcConnection } from '../../src/rtc/index.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
interface BenchWindow {
  dj: any
  WebTorrent: any
  /** The harness: hands the offer to Node device `device`, resolves with its answer. */
  benchSignal(device: number, sdp: string): Promise<string>
  benchKey?: CryptoKeyPair
  bench: typeof api
}
const w = window as unknown as BenchWindow

/** A mux stream as the message channel dj.messageStream makes a Duplex of (what a WebSocket or data channel offers). */
function streamChannel(s: MuxStream) {
  const on: Record<string, Array<(e: any) => void>> = { message: [], close: [], error: [], open: [] }
  s.on('data', (d) => on.message!.forEach((f) => f({ data: d })))
  s.on('close', () => on.close!.forEach((f) => f({})))
  return {
    get readyState() {
      return s.closed ? 'closed' : 'open'
    },
    // What this stream has queued in the mux, not yet handed to the data channel.
    get bufferedAmount() {
      let n = 0
      for (const p of s.queue) n += p.frame.length
      return n
    },
    send: (d: Uint8Array) => s.write(d),
    close: () => s.end(),
    addEventListener: (type: string, f: (e: any) => void) => on[type]?.push(f),
    removeEventListener: () => {},
  }
}

export interface DjcloudArgs {
  meta: { infoHash: string; sha256: string; size: number; pieceLength: number; pieces: string; pieceCount: number }
  certificate: string
  roster: string
  deviceChannel: string
  devices: number
  store: string
  /** Leave the store (OPFS and index) in place: the harness measures its index after. */
  keep?: boolean
}

export interface DjcloudRun {
  ms: number
  setupMs: number[]
  /** Offer made to both track wires authenticated, per device. */
  linkedMs: number[]
  sources: Record<string, number>
  /** ms from the start to the last piece verified and written; the rest to `done` is the whole-file SHA-256 read back from OPFS. */
  lastPieceMs: number
}

/** The page's device key (WebCrypto Ed25519, not extractable): made once, its raw public key as hex. */
async function pageKey(): Promise<string> {
  w.benchKey ??= (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', w.benchKey.publicKey))
  return [...raw].map((b) => b.toString(16).padStart(2, '0')).join('')
}

async function djcloudDownload(a: DjcloudArgs): Promise<DjcloudRun> {
  const { dj } = w
  const B = (window as any).Buffer
  const meta = { ...a.meta, infoHash: B.from(a.meta.infoHash, 'hex'), pieces: B.from(a.meta.pieces, 'hex') }
  const roster = dj.verifyRoster(B.from(a.roster, 'hex'))
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', w.benchKey!.publicKey))
  const credentials = { signer: dj.cryptoKeySigner(w.benchKey!.privateKey, publicKey), certificate: B.from(a.certificate, 'hex') }
  const auth = (conn: RtcConnection, s: MuxStream, infoHash: Uint8Array, extensions: string[]) =>
    dj.authenticateWire(dj.messageStream(streamChannel(s)), { credentials, roster: () => roster, infoHash, extensions }, { binding: () => conn.binding(s.id), remote: { host: 'webrtc', port: s.id } })
  await dj.loadFastHashes() // as BrowserDevice.start does
  const store = await dj.BrowserTrackStore.open({ name: a.store })
  const channel = new dj.DeviceChannel({ peerPort: () => 0, answer: async () => null })
  const conns: RtcConnection[] = []
  const started = performance.now()
  const torrent = new dj.Torrent(meta, await store.fetchInto(meta), { queueMin: dj.BROWSER_QUEUE_MIN }) // as BrowserDevice fetches
  let lastPieceMs = 0
  torrent.on('piece', () => (lastPieceMs = performance.now() - started))
  const done = new Promise<string>((resolve, reject) => {
    torrent.once('done', resolve)
    torrent.once('failed', reject)
  })
  const links = await Promise.all(
    Array.from({ length: a.devices }, async (_, i) => {
      const t0 = performance.now()
      const offer = await createOffer({ peerConnection: (config) => new RTCPeerConnection(config) as any })
      const conn = await offer.accept(await w.benchSignal(i, offer.sdp))
      conns.push(conn)
      // Stream 0: the device link (the answering Swarm waits for it); then the track's wire.
      channel.add(await auth(conn, conn.mux.open(), B.from(a.deviceChannel, 'hex'), [dj.LOOKUP_EXTENSION]))
      const session = await auth(conn, conn.mux.open(), meta.infoHash, [])
      torrent.addPeer(session)
      return { setupMs: conn.setupMs, linkedMs: performance.now() - t0 }
    }),
  )
  await done
  const ms = performance.now() - started
  const sources = torrent.sources()
  await torrent.close()
  store.close()
  channel.close()
  for (const c of conns) c.close()
  if (a.keep) return { ms, setupMs: links.map((l) => l.setupMs), linkedMs: links.map((l) => l.linkedMs), sources, lastPieceMs }
  await (await navigator.storage.getDirectory()).removeEntry(a.store, { recursive: true }).catch(() => {})
  await new Promise<void>((resolve) => {
    const req = indexedDB.deleteDatabase(a.store)
    req.onsuccess = req.onerror = req.onblocked = () => resolve()
  })
  return { ms, setupMs: links.map((l) => l.setupMs), linkedMs: links.map((l) => l.linkedMs), sources, lastPieceMs }
}

export interface WebtorrentRun {
  ms: number
  /** ms from add to the first wire (a seeder connected over WebRTC). */
  firstWireMs: number | null
  /** Bytes each wire brought, at done. */
  wires: number[]
}

async function webtorrentDownload(a: { torrent: string; announce: string }): Promise<WebtorrentRun> {
  const client = new w.WebTorrent({ dht: false, lsd: false, webSeeds: false, tracker: { rtcConfig: { iceServers: [] } } })
  try {
    const bytes = Uint8Array.from(atob(a.torrent), (c) => c.charCodeAt(0))
    const started = performance.now()
    const torrent = client.add(bytes, { announce: [a.announce], destroyStoreOnDestroy: true })
    let firstWireMs: number | null = null
    torrent.on('wire', () => (firstWireMs ??= performance.now() - started))
    await new Promise<void>((resolve, reject) => {
      torrent.once('done', resolve)
      torrent.once('error', reject)
      client.once('error', reject)
    })
    const ms = performance.now() - started
    return { ms, firstWireMs, wires: torrent.wires.map((x: { downloaded: number }) => x.downloaded) }
  } finally {
    await new Promise<void>((resolve) => client.destroy(() => resolve()))
  }
}

/** Opens store `name` and keeps it referenced: the harness measures the heap before and after (its index in memory). */
async function openStore(name: string): Promise<{ tracks: number; piecesHeld: number }> {
  const store = await w.dj.BrowserTrackStore.open({ name })
  ;(window as any).heldStore = store
  const t = store.tracks()
  return { tracks: t.length, piecesHeld: t.reduce((n: number, x: { piecesHeld: number }) => n + x.piecesHeld, 0) }
}

const api = { pageKey, djcloudDownload, webtorrentDownload, openStore }
w.bench = api
