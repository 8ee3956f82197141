// The swarm benchmark's results: what the child processes report, the shape
// of bench/results/swarm.json, and the table printed after a run. MB are
// 10^6 bytes throughout.
import { percentiles as sharedPercentiles, table, type Percentiles } from '../common.ts'

/** One djcloud download, as the downloader process reports it. */
export interface FetchReport {
  mode: 'fetch'
  /** First connect to 'done'. */
  ms: number
  /** First connect to every seeder authenticated and added. */
  authMs: number
  /** First connect to the last piece written (before the whole-file SHA-256). */
  lastPieceMs: number
  cpuUserMs: number
  cpuSystemMs: number
  /** Bytes received per seeder. */
  sources: Record<string, number>
  /** What the links ran: "TLSv1.3 TLS_AES_256_GCM_SHA384" (getProtocol() and getCipher().standardName) or "plain TCP". */
  links: string[]
  /** With a background analysis: files it analysed meanwhile. */
  analysed?: number
}

/** One libtorrent download, as bench/swarm/libtorrent_peer.py reports it. */
export interface LibtorrentFetchReport {
  ms: number
  cpuUserMs: number
  cpuSystemMs: number
  peakKiB: number | null
  downloaded: number
  peers: number
  /** Peer connections seen during the download, by libtorrent's peer_info flags: the whole stream RC4, only the handshake encrypted, none. */
  encryption: { rc4: number; plaintext_encrypted: number; none: number }
}

export interface LatencyReport {
  mode: 'latency'
  ttfbMs: number[]
  seekMs: number[]
  /** Torrents opened (fresh cache file, new wires) because the previous one had no untouched region left. */
  ttfbSessions: number
  seekSessions: number
  /** Bytes the sequential reader had read before each seek. */
  streamedBeforeSeek: number[]
  /** CPU of the whole latency run (process start-up excluded). */
  cpuSec: number
  /** With a background analysis: files it analysed meanwhile. */
  analysed?: number
}

/** One resumed download, as the downloader process reports it (times from opening the partial file). */
export interface ResumeReport {
  mode: 'resume'
  /** Pieces the .have listed: checked again before use. */
  resumedPieces: number
  /** To the first 64 KiB of a resumed range (its pieces checked on demand). */
  ttfbMs: number
  /** To every resumed piece checked (what a reader would wait for if serving waited for the whole check). */
  checkedMs: number
  /** To 'done': the rest fetched, the whole file's SHA-256 verified, moved into place. */
  doneMs: number
  /** Resumed pieces that failed their check (none in the benchmark's partial). */
  corrupt: number
  fetchedBytes: number
  cpuSec: number
  analysed?: number
}

/** The resume case: medians over the rounds, and the yardsticks of the same run. */
export interface ResumeResults {
  /** Share of the track's pieces the partial file holds (listed in its .have). */
  heldShare: number
  runs: Array<Omit<ResumeReport, 'mode'> & { sha256sumMs: number; readMs: number }>
  ttfbMs: number
  checkedMs: number
  doneMs: number
  cpuSec: number
  fetchedMB: number
  /** sha256sum of the same partial file (median): reading and hashing it once, the yardstick. */
  sha256sumMs: number
  /** cat of the same partial to /dev/null (median): reading it once. */
  readMs: number
  /** A fresh download of the whole track from 3 seeders (the throughput series' median). */
  freshMs: number
  ratios: {
    /** Time to done over the fresh download. */
    doneOverFresh: number
    /** Time to done over sha256sum of the partial. */
    doneOverSha256sum: number
    /** Time to every resumed piece checked over sha256sum of the partial. */
    checkedOverSha256sum: number
    /** Time to first byte (lazy, per piece) over the time to every piece checked (what waiting for the whole check would give). */
    ttfbOverChecked: number
  }
}

export interface Download {
  round: number
  ms: number
  mbPerSec: number
  /** Downloader CPU, user + system, over the timed span. */
  cpuSec: number
  /** Downloader peak RSS (VmHWM), MB. */
  rssMB: number | null
  /** CPU the seeders used during the run (their whole processes, all threads). */
  seedersCpuSec: number
  /** djcloud only: first connect to all seeders authenticated, and to the last piece written. */
  authMs?: number
  lastPieceMs?: number
  /** djcloud only: MB received from each seeder. */
  sourcesMB?: Record<string, number>
  /** With a background analysis: files it analysed during the download. */
  analysed?: number
}

export interface Series {
  /** djcloud-plain: plain TCP links (the encryption-cost baseline); libtorrent-enc: its own encryption forced. */
  impl: 'djcloud' | 'djcloud-plain' | 'libtorrent' | 'libtorrent-enc'
  seeders: number
  runs: Download[]
  /** Medians over the runs (rss: the highest). */
  mbPerSec: number
  bestMbPerSec: number
  ms: number
  cpuSec: number
  rssMB: number | null
  seedersCpuSec: number
}

export interface Target {
  target: string
  met: boolean
}

export type { Percentiles }

export interface NotMeasured {
  measured: false
  note: string
}

export interface SwarmBenchResults {
  date: string
  machine: { cpu: string; cores: number; memoryGB: number; node: string; os: string; libtorrent: string | null }
  commit: string | null
  /** os.loadavg() when the seeders were up and after the throughput rounds: the machine is 2 cores. */
  loadAverage: { start: number[]; end: number[] }
  /** Uncommitted files among those the benchmark runs, when commit ends in +dirty. */
  dirty: string[]
  method: string[]
  track: { bytes: number; pieceLength: number; pieces: number }
  rounds: number
  throughput: {
    djcloud: { seeders1: Series; seeders2: Series; seeders3: Series }
    libtorrent: { seeders1: Series; seeders3: Series } | null
    /** djcloud 3 seeders (TLS links) over plaintext libtorrent 3 seeders (median MB/s). */
    ratio3: ({ value: number } & Target) | null
    /** djcloud 1 seeder over libtorrent 1 seeder (no target). */
    ratio1: number | null
    /** djcloud 3 seeders with the node's background analysis in the downloader's process, over without. */
    analysing: { seeders3: Series; overIdle: number; analysedPerDownload: number }
    /** djcloud: 2 and 3 seeders over 1 seeder (median MB/s). */
    scaling: { twoOverOne: number; threeOverOne: number } & Target
    /** djcloud 3 seeders with the store's fdatasync made a no-op; durableOverUnsynced = MB/s with it over without. */
    unsynced: { seeders3: Series; durableOverUnsynced: number }
  }
  /** What the link encryption costs (issue 13), all medians of the same run. */
  encryption: {
    /** The same djcloud seeder and downloader over plain TCP. */
    djcloudPlain: { seeders1: Series; seeders3: Series }
    /** libtorrent with its RC4 encryption forced, seeders and downloader. */
    libtorrentEncrypted: { seeders1: Series; seeders3: Series } | null
    /** djcloud TLS over djcloud plain: 3 seeders (target >= 0.85, a cost of at most 15%) and 1 seeder. */
    tlsOverPlain3: { value: number } & Target
    tlsOverPlain1: number
    /** djcloud TLS over libtorrent with encryption forced: 3 seeders (target >= 1.3) and 1 seeder. */
    overLibtorrentEncrypted3: ({ value: number } & Target) | null
    overLibtorrentEncrypted1: number | null
    /** djcloud plain over plaintext libtorrent, 3 seeders (issue 3's 1.3x, for the same code without TLS). */
    plainOverLibtorrent3: ({ value: number } & Target) | null
    /** libtorrent's own encryption cost: forced over plain, 3 seeders. */
    libtorrentEncryptedOverPlain3: number | null
    /** "TLSv1.3 <suite>" of every djcloud TLS link of the throughput runs. */
    linkCipherSuites: string[]
    /** libtorrent downloads' peer connections by encryption, summed over the runs (forced: all rc4; plain: all none). */
    libtorrentPeers: Record<'libtorrent' | 'libtorrent-enc', Record<string, number>> | null
    /** A plaintext BitTorrent handshake sent to a plain and to a forced-encryption libtorrent seeder: answered with a handshake or not, and the first bytes back (hex). */
    libtorrentPlaintextProbe: { plain: { answered: boolean; firstBytes: string }; forced: { answered: boolean; firstBytes: string } } | null
  }
  /** Resuming a partial download of the track left by an earlier run. */
  resume: ResumeResults
  latency: {
    /** Warm wires, a range never fetched before: waitFor + readAt of 64 KiB. */
    warmTtfb: Percentiles & Target & { sessions: number }
    /** A jump away from a sequential read in progress: the first 64 KiB there. */
    seek: Percentiles & Target & { sessions: number; streamedBeforeSeekMB: number }
    /** The same reads with the background analysis going on. */
    whileAnalysing: { warmTtfb: Percentiles & Target; seek: Percentiles & Target; analysed: number; ttfbP95OverIdle: number; seekP95OverIdle: number }
    downloaderCpuSec: number
    downloaderRssMB: number | null
    deviceWarm: NotMeasured
    firstContact: NotMeasured
  }
}

export { median, percentile, round } from '../common.ts'

/** Latencies here keep two decimals (loopback reads are a few ms). */
export const percentiles = (samples: number[]): Percentiles => sharedPercentiles(samples, 2)


const ok = (t: Target) => `${t.target} ${t.met ? 'ok' : 'MISSED'}`
const mb = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)} MB`)

function seriesRow(label: string, s: Series, ratio: string, target: string): string[] {
  return [
    label,
    `${s.mbPerSec.toFixed(0)} MB/s`,
    `${s.bestMbPerSec.toFixed(0)} MB/s`,
    `${(s.ms / 1000).toFixed(2)} s`,
    `${s.cpuSec.toFixed(2)} s`,
    mb(s.rssMB),
    `${s.seedersCpuSec.toFixed(2)} s`,
    ratio,
    target,
  ]
}

export function formatResults(r: SwarmBenchResults): string {
  const t = r.throughput
  const e = r.encryption
  const lt = t.libtorrent
  const l = r.latency
  const x = (v: number) => `${v.toFixed(2)}x`
  const rows: string[][] = [
    ['download, 200 MB track', 'median', 'best', 'time', 'dl CPU', 'dl RSS', 'seeders CPU', 'ratio', 'target'],
    seriesRow('djcloud, 1 seeder', t.djcloud.seeders1, t.ratio1 === null ? '' : `${x(t.ratio1)} lt`, ''),
    seriesRow('djcloud, 2 seeders', t.djcloud.seeders2, `${x(t.scaling.twoOverOne)} 1 seeder`, ''),
    seriesRow('djcloud, 3 seeders', t.djcloud.seeders3, t.ratio3 ? `${x(t.ratio3.value)} lt` : '', t.ratio3 ? ok(t.ratio3) : ''),
    seriesRow('djcloud plain TCP, 1 seeder', e.djcloudPlain.seeders1, `TLS ${x(e.tlsOverPlain1)} this`, ''),
    seriesRow('djcloud plain TCP, 3 seeders', e.djcloudPlain.seeders3, `TLS ${x(e.tlsOverPlain3.value)} this`, ok(e.tlsOverPlain3)),
    seriesRow('djcloud, 3 seeders, analysing', t.analysing.seeders3, `${x(t.analysing.overIdle)} idle`, ''),
    seriesRow('djcloud, 3 seeders, no fdatasync', t.unsynced.seeders3, `durable ${x(t.unsynced.durableOverUnsynced)} this`, ''),
  ]
  if (lt) {
    rows.push(seriesRow('libtorrent, 1 seeder', lt.seeders1, '', ''))
    rows.push(seriesRow('libtorrent, 3 seeders', lt.seeders3, '', ''))
  }
  if (e.libtorrentEncrypted) {
    const o1 = e.overLibtorrentEncrypted1
    const o3 = e.overLibtorrentEncrypted3
    rows.push(seriesRow('libtorrent, RC4 forced, 1 seeder', e.libtorrentEncrypted.seeders1, o1 === null ? '' : `dj TLS ${x(o1)} this`, ''))
    rows.push(seriesRow('libtorrent, RC4 forced, 3 seeders', e.libtorrentEncrypted.seeders3, o3 ? `dj TLS ${x(o3.value)} this` : '', o3 ? ok(o3) : ''))
  }
  rows[0]![0] = `download, ${(r.track.bytes / 1e6).toFixed(0)} MB track`
  const lat: string[][] = [
    ['first 64 KiB of an unfetched range', 'p50', 'p95', 'max', 'target'],
    ['warm wires, out of the blue', `${l.warmTtfb.p50.toFixed(1)} ms`, `${l.warmTtfb.p95.toFixed(1)} ms`, `${l.warmTtfb.max.toFixed(1)} ms`, ok(l.warmTtfb)],
    ['seek during a sequential read', `${l.seek.p50.toFixed(1)} ms`, `${l.seek.p95.toFixed(1)} ms`, `${l.seek.max.toFixed(1)} ms`, ok(l.seek)],
    ['warm wires, while analysing', `${l.whileAnalysing.warmTtfb.p50.toFixed(1)} ms`, `${l.whileAnalysing.warmTtfb.p95.toFixed(1)} ms`, `${l.whileAnalysing.warmTtfb.max.toFixed(1)} ms`, `${ok(l.whileAnalysing.warmTtfb)} (p95 ${x(l.whileAnalysing.ttfbP95OverIdle)} idle)`],
    ['seek, while analysing', `${l.whileAnalysing.seek.p50.toFixed(1)} ms`, `${l.whileAnalysing.seek.p95.toFixed(1)} ms`, `${l.whileAnalysing.seek.max.toFixed(1)} ms`, `${ok(l.whileAnalysing.seek)} (p95 ${x(l.whileAnalysing.seekP95OverIdle)} idle)`],
    ['device-warm (device channel open)', 'not measured yet', '', '', ''],
    ['first contact (tracker lookup)', 'not measured yet', '', '', ''],
  ]
  const rs = r.resume
  const ms = (v: number) => `${v.toFixed(0)} ms`
  const resume: string[][] = [
    [`resume of a ${(r.track.bytes / 1e6).toFixed(0)} MB partial (${(rs.heldShare * 100).toFixed(0)}% held)`, 'median', 'ratio'],
    ['first 64 KiB of a resumed range', ms(rs.ttfbMs), `${x(rs.ratios.ttfbOverChecked)} waiting for the whole check`],
    ['every resumed piece checked', ms(rs.checkedMs), `${x(rs.ratios.checkedOverSha256sum)} sha256sum`],
    ['done (rest fetched, SHA-256, in place)', ms(rs.doneMs), `${x(rs.ratios.doneOverFresh)} fresh download, ${x(rs.ratios.doneOverSha256sum)} sha256sum`],
    ['yardstick: sha256sum of the partial', ms(rs.sha256sumMs), ''],
    ['yardstick: cat of the partial', ms(rs.readMs), ''],
    ['yardstick: fresh download, 3 seeders', ms(rs.freshMs), ''],
  ]
  return [
    `djcloud swarm benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, libtorrent ${r.machine.libtorrent ?? 'n/a'}, commit ${r.commit ?? '?'}`,
    '',
    table(rows),
    `more seeders never slower than one (medians): 2/1 ${x(t.scaling.twoOverOne)}, 3/1 ${x(t.scaling.threeOverOne)}: ${ok(t.scaling)}`,
    `links: ${e.linkCipherSuites.join(', ')}; djcloud plain over libtorrent plain, 3 seeders: ${e.plainOverLibtorrent3 ? `${x(e.plainOverLibtorrent3.value)} (${ok(e.plainOverLibtorrent3)})` : 'n/a'}; libtorrent forced over plain: ${e.libtorrentEncryptedOverPlain3 === null ? 'n/a' : x(e.libtorrentEncryptedOverPlain3)}`,
    e.libtorrentPeers ? `libtorrent peer connections by encryption (peer_info flags): plain ${JSON.stringify(e.libtorrentPeers.libtorrent)}, forced ${JSON.stringify(e.libtorrentPeers['libtorrent-enc'])}; a plaintext handshake to a forced seeder answered: ${e.libtorrentPlaintextProbe?.forced.answered}` : '',
    `load average (1, 5, 15 min): ${r.loadAverage.start.join(' ')} at start, ${r.loadAverage.end.join(' ')} after the throughput rounds`,
    `analysing: one low-priority worker in the downloader's process analysed ${t.analysing.analysedPerDownload} files (20 s each) per download (median), ${l.whileAnalysing.analysed} during the latency reads`,
    '',
    table(lat),
    `(${l.warmTtfb.samplesMs.length} reads each; downloader CPU ${l.downloaderCpuSec.toFixed(2)} s, peak RSS ${mb(l.downloaderRssMB)})`,
    '',
    table(resume),
    `(fetched ${rs.fetchedMB.toFixed(0)} MB; downloader CPU ${rs.cpuSec.toFixed(2)} s; page cache warm for both)`,
    '',
    `Medians of ${r.rounds} rounds; time is first connect to done (djcloud: whole-file SHA-256 verified;`,
    'libtorrent: torrent_finished_alert). dl = the downloader process; RSS is its VmHWM.',
  ].join('\n')
}
