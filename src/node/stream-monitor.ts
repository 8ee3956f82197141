// What is streaming now, for GET /api/streams: the node's track sources are
// wrapped so every stream the player opens is reported here, with the bytes
// each device has sent for it. Swarm streams read their torrent's per-device
// counters (Torrent.sources()); a file on this device counts as device
// "local". Rates are bytes/s over the last RATE_WINDOW, from samples taken
// while streams are live; a stream stays listed for a linger (LINGER by
// default) after its last response ended.
import type { TrackHandle, TrackSource } from '../player/index.ts'
import type { Torrent } from '../swarm/index.ts'
import { SwarmTrackSource } from './swarm-track-source.ts'

export const RATE_WINDOW = 2_000 // ms
export const LINGER = 10_000 // ms a finished stream stays listed
const SAMPLE_EVERY = 250 // ms
export const MAX_STREAMS = 64 // listed at once; the oldest finished ones go first

export interface StreamSourceView {
  /** Device key (hex), or "local" for a file on this device. */
  device: string
  name: string
  bytes: number
  /** bytes/s over the last 2 s */
  rate: number
}

export interface StreamView {
  sha256: string
  /** ms since the epoch */
  startedAt: number
  /** Bytes handed to the player. */
  bytes: number
  sources: StreamSourceView[]
}

interface Sample {
  t: number
  /** Source key -> bytes since the stream started. */
  totals: Map<string, number>
}

interface Stream {
  sha256: string
  startedAt: number
  open: number
  endedAt?: number
  bytes: number
  local: number
  torrent?: Torrent
  /** Torrent.sources() when the stream started: the torrent may have fetched before. */
  baseline: Record<string, number>
  /** Device name -> key, learnt from the torrent's peers (sources() counts by name). */
  devices: Map<string, string>
  samples: Sample[]
}

export class StreamMonitor {
  private readonly streams = new Map<string, Stream>()
  private timer: NodeJS.Timeout | null = null
  private closed = false

  private readonly lingerMs: number

  /** `selfName`: this device's name, shown for local reads; `lingerMs`: how long a finished stream stays listed (default LINGER). */
  constructor(private readonly selfName: () => string, private readonly now: () => number = Date.now, opts: { lingerMs?: number } = {}) {
    this.lingerMs = opts.lingerMs ?? LINGER
  }

  /** A source of files on this device, reported as device "local". */
  local(source: TrackSource): TrackSource {
    return {
      resolve: async (sha256, signal) => {
        const handle = await source.resolve(sha256, signal)
        return handle && this.watch(handle, sha256)
      },
    }
  }

  /** A SwarmTrackSource over `open` whose streams report their torrent's per-device bytes. */
  swarm(open: (sha256: string, from?: number) => Promise<Torrent | null>): TrackSource {
    const opened = new Map<string, Torrent>()
    const inner = new SwarmTrackSource(async (sha256, from) => {
      const torrent = await open(sha256, from)
      if (torrent) opened.set(sha256, torrent)
      return torrent
    })
    return {
      resolve: async (sha256, signal, from) => {
        const handle = await inner.resolve(sha256, signal, from)
        const torrent = opened.get(sha256)
        opened.delete(sha256)
        return handle && this.watch(handle, sha256, torrent)
      },
    }
  }

  /** Streams live or ended within the linger, newest first. */
  list(): StreamView[] {
    this.sample()
    const now = this.now()
    return [...this.streams.values()]
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((s) => {
        const last = s.samples.at(-1)!
        // The reference: the latest sample at least RATE_WINDOW old, else the stream's start.
        const ref = s.samples.findLast((x) => x.t <= now - RATE_WINDOW) ?? { t: s.startedAt, totals: new Map<string, number>() }
        const seconds = Math.max((last.t - ref.t) / 1000, 0.001)
        return {
          sha256: s.sha256,
          startedAt: s.startedAt,
          bytes: s.bytes,
          sources: [...last.totals].map(([key, bytes]) => ({
            device: s.torrent ? (s.devices.get(key) ?? key) : LOCAL,
            name: s.torrent ? key : this.selfName(),
            bytes,
            rate: Math.round((bytes - (ref.totals.get(key) ?? 0)) / seconds),
          })),
        }
      })
  }

  close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.streams.clear()
  }

  private watch(handle: TrackHandle, sha256: string, torrent?: Torrent): TrackHandle {
    if (this.closed) return handle
    const s = this.begin(sha256, torrent)
    let closed = false
    const monitor = this
    return {
      size: handle.size,
      ...(handle.mimeType ? { mimeType: handle.mimeType } : {}),
      ...(handle.prefetch ? { prefetch: (a: number, b: number) => handle.prefetch!(a, b) } : {}),
      async *read(start, end, signal) {
        for await (const chunk of handle.read(start, end, signal) as AsyncIterable<Uint8Array>) {
          s.bytes += chunk.length
          if (!s.torrent) s.local += chunk.length
          yield chunk
        }
      },
      close() {
        if (!closed) {
          closed = true
          if (--s.open === 0) {
            monitor.sample()
            s.endedAt = monitor.now()
          }
        }
        return handle.close?.()
      },
    }
  }

  private begin(sha256: string, torrent: Torrent | undefined): Stream {
    let s = this.streams.get(sha256)
    // The same track again (a seek, the next range) continues its entry; another source starts afresh.
    if (!s || s.torrent !== torrent) {
      s = {
        sha256,
        startedAt: this.now(),
        open: 0,
        bytes: 0,
        local: 0,
        ...(torrent ? { torrent } : {}),
        baseline: torrent ? torrent.sources() : {},
        devices: new Map(),
        samples: [],
      }
      this.streams.delete(sha256)
      this.streams.set(sha256, s)
      this.trim()
    }
    s.open++
    delete s.endedAt
    this.timer ??= setInterval(() => this.sample(), SAMPLE_EVERY).unref()
    return s
  }

  /** Takes a sample of every live stream; forgets streams ended longer than the linger ago. */
  private sample(): void {
    const now = this.now()
    for (const [sha, s] of this.streams) {
      if (s.endedAt !== undefined && now - s.endedAt > this.lingerMs) {
        this.streams.delete(sha)
        continue
      }
      s.samples.push({ t: now, totals: this.totals(s) })
      // Keep the window, and the one sample just before it as its reference.
      const firstInWindow = s.samples.findIndex((x) => x.t > now - RATE_WINDOW)
      if (firstInWindow > 1) s.samples.splice(0, firstInWindow - 1)
    }
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  private totals(s: Stream): Map<string, number> {
    const out = new Map<string, number>()
    if (!s.torrent) {
      out.set(LOCAL, s.local)
      return out
    }
    for (const p of s.torrent.peers) {
      const cert = p.session.peer.certificate
      s.devices.set(cert.name, Buffer.from(cert.device).toString('hex'))
    }
    for (const [name, bytes] of Object.entries(s.torrent.sources())) {
      const since = bytes - (s.baseline[name] ?? 0)
      if (since > 0) out.set(name, since)
    }
    return out
  }

  private trim(): void {
    for (const [sha, s] of this.streams) {
      if (this.streams.size <= MAX_STREAMS) return
      if (s.open === 0) this.streams.delete(sha)
    }
  }
}

const LOCAL = 'local'
