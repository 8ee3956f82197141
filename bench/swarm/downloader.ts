// The djcloud downloader, in a process of its own so that its CPU time and
// peak RSS are its alone (bench/swarm). The parent bundles this file with
// esbuild and runs it with plain node, as the CLI ships:
//   node --import rss-probe.mjs downloader.mjs --config FILE --mode fetch|latency|resume --ports P1,P2,.. --cache DIR [--samples N] [--analyse AUDIO] [--sync off] [--link plain]
// and reads one JSON line from stdout. Links are TLS (src/link) as the node
// dials them; --link plain dials plain TCP seeders (seeder.ts --link plain)
// with the config's per-run binding: the encryption-cost baseline. With --analyse, a background analysis
// (one low-priority worker, as `serve` runs it) analyses AUDIO over and over
// in this process meanwhile.
//
// fetch: a PartialFile + Torrent fed by the seeders; wall time and CPU from
//   the first connect to 'done' (every piece SHA-1 checked, the whole file's
//   SHA-256 verified, moved into place).
// resume: the cache dir holds a partial download left by an earlier run
//   (.part and .have): time from opening it to the first 64 KiB of a resumed
//   range (checked again first), to every resumed piece checked, and to 'done'.
// --sync off (fetch): the store's fdatasync made a no-op, to measure what the
//   durable sidecar costs.
// latency: warm wires (connected, authenticated, unchoked, the torrent
//   prefetching on its own) and, 20 times each, the time to the first 64 KiB
//   of a region not fetched yet: a read out of the blue (TTFB), and a jump
//   away from a sequential read in progress (seek).
import { dialLink } from '../../src/link/index.ts'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import type { TLSSocket } from 'node:tls'
import { open, rm } from 'node:fs/promises'
import { randomInt } from 'node:crypto'
import { join } from 'node:path'
import { authenticate, Bitfield, PartialFile, Torrent } from '../../src/swarm/index.ts'
import { DOWNLOADER, flags, loadConfig, type BenchConfig } from './config.ts'
import { startBackgroundAnalysis } from './background-analysis.ts'
import type { FetchReport, LatencyReport, ResumeReport } from './report.ts'

/** Bytes of one read, as an HTTP range stream would hand them out. */
const READ = 64 * 1024
/** Per wire the scheduler keeps up to 128 blocks of 16 KiB in flight: 2 MiB; with 3 wires, 6 MiB past the prefetch cursor. */
const GUARD_BYTES = 8 * 1024 * 1024
const FETCH_TIMEOUT = 120_000
const WARM_TIMEOUT = 15_000

const args = flags(process.argv.slice(2))
const config = await loadConfig(args.config!)
const ports = args.ports!.split(',').map(Number)
const credentials = config.credentials(DOWNLOADER)
const { meta } = config
const elapsed = (t0: number) => Math.round((performance.now() - t0) * 1000) / 1000

const plain = args.link === 'plain'
/** What the links ran: TLS version and cipher suite of each (tlsSocket.getCipher()), or plain TCP. */
const links = new Set<string>()

async function dial(port: number): Promise<Socket> {
  if (!plain) {
    const sock: TLSSocket = await dialLink('127.0.0.1', port)
    links.add(`${sock.getProtocol()} ${sock.getCipher().standardName}`)
    return sock
  }
  const started = performance.now()
  const sock = connect(port, '127.0.0.1')
  await once(sock, 'connect')
  plainRtt.set(sock, performance.now() - started)
  links.add('plain TCP')
  return sock
}

/** The plain baseline's connect times: its request queues sized by the path's round trip, as a TLS link's are (linkRtt). */
const plainRtt = new WeakMap<object, number>()

function connectAll(torrent: Torrent): Promise<void> {
  return Promise.all(
    ports.map(async (port) => {
      const sock = await dial(port)
      sock.on('error', () => {})
      const binding = plain ? { binding: () => config.plainBinding } : {}
      const session = await authenticate(sock, { credentials, roster: () => config.roster, infoHash: meta.infoHash, ...binding })
      const rtt = plainRtt.get(sock)
      if (rtt !== undefined) session.rttMs = rtt
      torrent.addPeer(session)
    }),
  ).then(() => {})
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  )
}

/** Without fdatasync: what the bench compares the durable sidecar against (reaches into the store: bench only). */
function withoutSync(store: PartialFile): PartialFile {
  ;(store as unknown as { fh: { datasync: () => Promise<void> } }).fh.datasync = async () => {}
  return store
}

async function fetchAll(cfg: BenchConfig, cacheDir: string): Promise<FetchReport> {
  const store = await PartialFile.open(cacheDir, cfg.meta)
  const torrent = new Torrent(cfg.meta, args.sync === 'off' ? withoutSync(store) : store)
  let warning: Error | null = null
  torrent.on('warning', (err) => (warning ??= err))
  let lastPiece = 0
  torrent.on('piece', () => (lastPiece = performance.now()))
  const done = new Promise<void>((resolve, reject) => {
    torrent.once('done', () => resolve())
    torrent.on('warning', (err) => {
      if (err.name === 'PieceFileError') reject(err)
    })
  })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const authed = connectAll(torrent).then(() => elapsed(t0))
  await withTimeout(done, FETCH_TIMEOUT, 'download')
  const ms = elapsed(t0)
  const cpu = process.cpuUsage(cpu0)
  const authMs = await authed
  const sources = torrent.sources()
  await torrent.close()
  if (warning) process.stderr.write(`downloader warning: ${(warning as Error).message}\n`)
  return {
    mode: 'fetch', ms, authMs, lastPieceMs: Math.round((lastPiece - t0) * 1000) / 1000, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, sources, links: [...links],
  }
}

// ---- resume -------------------------------------------------------------

async function resume(cacheDir: string): Promise<ResumeReport> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const store = await PartialFile.open(cacheDir, meta)
  const resumedPieces = store.unverifiedCount
  if (resumedPieces === 0) throw new Error('no partial download to resume in the cache dir')
  const torrent = new Torrent(meta, store)
  let checkedMs = 0
  let corrupt = 0
  torrent.on('piece', () => {
    if (!checkedMs && torrent.unverified === 0) checkedMs = elapsed(t0)
  })
  torrent.on('corrupt', () => corrupt++)
  const done = new Promise<number>((resolve, reject) => {
    torrent.once('done', () => resolve(elapsed(t0)))
    torrent.once('failed', reject)
  })
  const connected = connectAll(torrent)
  // A player asks for the middle of what the earlier run had fetched.
  const offset = Math.floor((resumedPieces * meta.pieceLength) / 2)
  await torrent.waitFor(offset, offset + READ - 1)
  const buf = await torrent.readAt(offset, READ)
  const ttfbMs = elapsed(t0)
  await checkBytes(offset, buf)
  const doneMs = await withTimeout(done, FETCH_TIMEOUT, 'resumed download')
  await connected
  const cpu = process.cpuUsage(cpu0)
  const sources = torrent.sources()
  await torrent.close()
  return { mode: 'resume', resumedPieces, ttfbMs, checkedMs, doneMs, corrupt, fetchedBytes: Object.values(sources).reduce((a, b) => a + b, 0), cpuSec: (cpu.user + cpu.system) / 1e6 }
}

// ---- latency ------------------------------------------------------------

interface Session {
  torrent: Torrent
  dir: string
  /**
   * Pieces received and verified, written or not: handed to the store's
   * writePiece. `have` lags behind it by the store's write queue.
   */
  received: Bitfield
}

let sessionNo = 0

/** A fresh cache file and torrent, with every seeder connected and already sending (prefetch under way). */
async function openSession(cacheRoot: string): Promise<Session> {
  const dir = join(cacheRoot, `session-${++sessionNo}`)
  const store = await PartialFile.open(dir, meta)
  const received = new Bitfield(meta.pieceCount)
  const writePiece = store.writePiece.bind(store)
  store.writePiece = (index, data) => {
    received.set(index)
    return writePiece(index, data)
  }
  const torrent = new Torrent(meta, store)
  torrent.on('warning', () => {})
  const warm = new Promise<void>((resolve) => {
    const check = () => {
      if (Object.keys(torrent.sources()).length === ports.length) {
        torrent.off('piece', check)
        resolve()
      }
    }
    torrent.on('piece', check)
  })
  await withTimeout(connectAll(torrent), WARM_TIMEOUT, 'connecting')
  await withTimeout(warm, WARM_TIMEOUT, 'warming up')
  return { torrent, dir, received }
}

async function closeSession(s: Session): Promise<void> {
  await s.torrent.close()
  await rm(s.dir, { recursive: true, force: true })
}

/**
 * A random offset whose 64 KiB and the GUARD_BYTES before them are all
 * unreceived: in-flight prefetch always sits right after a received region
 * (or at the start of the file), so such a region has not been requested
 * yet. -1 when the torrent has no such region left.
 */
function untouchedOffset(received: Bitfield): number {
  const guard = Math.ceil(GUARD_BYTES / meta.pieceLength)
  for (let tries = 0; tries < 5000; tries++) {
    const offset = randomInt(0, meta.size - READ)
    const first = Math.floor(offset / meta.pieceLength)
    const last = Math.floor((offset + READ - 1) / meta.pieceLength)
    if (first < guard) continue
    let free = true
    for (let i = first - guard; i <= last && free; i++) free = !received.get(i)
    if (free) return offset
  }
  return -1
}

const source = await open(config.source, 'r')

async function checkBytes(offset: number, got: Buffer): Promise<void> {
  const want = Buffer.allocUnsafe(got.length)
  await source.read(want, 0, want.length, offset)
  if (!want.equals(got)) throw new Error(`read at ${offset} returned the wrong bytes`)
}

/** waitFor + readAt of the 64 KiB at offset, timed. */
async function firstRead(torrent: Torrent, offset: number): Promise<number> {
  const t0 = performance.now()
  await torrent.waitFor(offset, offset + READ - 1)
  const buf = await torrent.readAt(offset, READ)
  const ms = elapsed(t0)
  await checkBytes(offset, buf)
  return ms
}

/**
 * A greedy sequential reader, chunked as SwarmTrackSource reads for an HTTP
 * response (up to the end of the piece under the position, at most 256 KiB,
 * one abort signal per response), for a client that buffers ahead.
 */
function stream(torrent: Torrent, from: number): { stop(): Promise<number> } {
  const ac = new AbortController()
  let bytes = 0
  const loop = (async () => {
    for (let at = from; at < meta.size && !ac.signal.aborted; ) {
      const pieceEnd = (Math.floor(at / meta.pieceLength) + 1) * meta.pieceLength - 1
      const last = Math.min(meta.size - 1, pieceEnd, at + 256 * 1024 - 1)
      await torrent.waitFor(at, last, ac.signal)
      await torrent.readAt(at, last - at + 1)
      bytes += last - at + 1
      at = last + 1
    }
  })().catch((err: Error) => {
    if (!ac.signal.aborted) throw err
  })
  return {
    async stop() {
      ac.abort(new Error('seeked away'))
      await loop
      return bytes
    },
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function latency(cacheRoot: string, samples: number): Promise<LatencyReport> {
  const cpu0 = process.cpuUsage()
  // TTFB: reads out of the blue, wires warm, nothing prioritised before.
  const ttfbMs: number[] = []
  let s = await openSession(cacheRoot)
  let ttfbSessions = 1
  while (ttfbMs.length < samples) {
    const offset = untouchedOffset(s.received)
    if (offset < 0) {
      await closeSession(s)
      s = await openSession(cacheRoot)
      ttfbSessions++
      continue
    }
    ttfbMs.push(await firstRead(s.torrent, offset))
  }
  await closeSession(s)

  // Seek: a sequential read streams from the start; after STREAM_MS, jump.
  const STREAM_MS = 100
  const seekMs: number[] = []
  const streamedBeforeSeek: number[] = []
  s = await openSession(cacheRoot)
  let seekSessions = 1
  let reader = stream(s.torrent, 0)
  while (seekMs.length < samples) {
    await sleep(STREAM_MS)
    const offset = untouchedOffset(s.received)
    if (offset < 0) {
      await reader.stop()
      await closeSession(s)
      s = await openSession(cacheRoot)
      seekSessions++
      reader = stream(s.torrent, 0)
      continue
    }
    // The player drops the old response and asks for the new range at once.
    const stopped = reader.stop()
    seekMs.push(await firstRead(s.torrent, offset))
    streamedBeforeSeek.push(await stopped)
    reader = stream(s.torrent, offset + READ)
  }
  await reader.stop()
  await closeSession(s)
  const cpu = process.cpuUsage(cpu0)
  return { mode: 'latency', ttfbMs, seekMs, ttfbSessions, seekSessions, streamedBeforeSeek, cpuSec: (cpu.user + cpu.system) / 1e6 }
}

try {
  const background = args.analyse ? await startBackgroundAnalysis(args.analyse) : null
  const report =
    args.mode === 'latency' ? await latency(args.cache!, Number(args.samples ?? 20))
    : args.mode === 'resume' ? await resume(args.cache!)
    : await fetchAll(config, args.cache!)
  if (background) report.analysed = await background.stop()
  process.stdout.write(JSON.stringify(report) + '\n')
  await source.close()
  process.exit(0)
} catch (err) {
  process.stderr.write(`downloader failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
}
