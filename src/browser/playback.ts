// The page's side of /stream/<sha256> (docs/browser.md "Playing"): the
// service worker asks the page that holds the browser device for a track
// over a MessagePort (src/ui/sw/stream.ts); this answers from whatever the
// runtime opens for it, which reads verified pieces only (a Torrent in the
// page: its readAt serves verified pieces, and waitFor puts the asked range
// first in its fetch order). Per track it keeps what the player shows: the
// bytes each device sent.
import { STREAM_OPEN, type StreamReply, type StreamRequest } from '../ui/index.ts'
import { prefetchForPlayback, STARTUP_HOLD_MS, type Torrent } from '../swarm/browser.ts'

/** A track the page can play: its size and type, its bytes, and who sent them. */
export interface PlaybackTrack {
  size: number
  mime: string
  /**
   * Bytes from `start` of verified pieces, at least one and at most to `end`
   * (exclusive): what is there once the piece under `start` is, so the
   * element gets its first bytes after one piece, not a whole chunk. Waits
   * until `signal` aborts.
   */
  read(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>
  /** Bytes per device name that this track's fetch got. */
  sources(): Record<string, number>
}

export type OpenTrack = (sha256: string) => Promise<PlaybackTrack>

/** A device feeding a track played here: the shape of /api/streams' sources. */
export interface PlaybackSource {
  /** The device's name (a page knows its devices by name). */
  device: string
  name: string
  /** Bytes it sent for this track. */
  bytes: number
  /** Bytes per second over the last `rateWindowMs`. */
  rate: number
}

/** What the player shows of a track streamed here, as /api/streams does for a node. */
export interface PlaybackStream {
  sha256: string
  /** Requests of the element being answered now. */
  open: number
  /** Bytes sent to the element. */
  bytes: number
  sources: PlaybackSource[]
}

export interface PlaybackOptions {
  /** navigator.serviceWorker (a test gives its own). */
  container?: WorkerContainer
  /** ms over which a source's rate is measured (RATE_WINDOW). */
  rateWindowMs?: number
  now?: () => number
}

/** ms of samples a source's rate is taken over: the player polls about every second. */
export const RATE_WINDOW = 3_000

export interface PlaybackServer {
  /** The tracks the element asked for since this started, latest first. */
  streams(): PlaybackStream[]
  /** Drops the opened track (the runtime closed its Torrent): the next request opens it again. */
  forget(sha256: string): void
  stop(): void
}

/** What navigator.serviceWorker is to this (a test gives its own). */
export interface WorkerContainer {
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void
  startMessages?(): void
}

/**
 * Answers the service worker's /stream/ requests with `openTrack` (called
 * once per track; a rejection answers "not here", and the worker goes to the
 * node). The worker's messages are dispatched from the page's load on.
 */
export function servePlayback(openTrack: OpenTrack, opts: PlaybackOptions = {}): PlaybackServer {
  const container: WorkerContainer = opts.container ?? (navigator.serviceWorker as unknown as WorkerContainer)
  const now = opts.now ?? (() => performance.now())
  const window = opts.rateWindowMs ?? RATE_WINDOW
  type Entry = { track: Promise<PlaybackTrack>; stream: PlaybackStream; opened?: PlaybackTrack; samples: Array<{ at: number; totals: Record<string, number> }> }
  const tracks = new Map<string, Entry>()
  const ports = new Set<MessagePort>()

  const entry = (sha256: string) => {
    let e = tracks.get(sha256)
    if (!e) {
      const track = openTrack(sha256)
      e = { track, stream: { sha256, open: 0, bytes: 0, sources: [] }, samples: [] }
      const made = e
      track.then((t) => (made.opened = t), () => tracks.delete(sha256)) // a failed open is asked again next time
      tracks.set(sha256, e)
    }
    tracks.delete(sha256)
    tracks.set(sha256, e) // latest first in streams()
    return e
  }

  const onMessage = (event: MessageEvent) => {
    const data = event.data as { type?: unknown; sha256?: unknown } | null
    const port = event.ports[0]
    if (data?.type !== STREAM_OPEN || !port || typeof data.sha256 !== 'string') return
    const reply = (m: StreamReply, transfer: Transferable[] = []) => port.postMessage(m, transfer)
    reply({ type: 'ack' })
    const e = entry(data.sha256)
    const abort = new AbortController()
    let counted = false
    const end = () => {
      abort.abort(new Error('the stream was closed'))
      port.close()
      ports.delete(port)
      if (counted) e.stream.open--
      counted = false
    }
    ports.add(port)
    port.onmessage = (m: MessageEvent<StreamRequest>) => {
      const req = m.data
      if (req.type === 'close') return end()
      if (req.type !== 'read') return
      void e.track.then(async (t) => {
        if (!Number.isSafeInteger(req.start) || !Number.isSafeInteger(req.end) || req.start < 0 || req.end > t.size || req.end < req.start) {
          throw new Error(`bad read ${req.start}-${req.end} of ${t.size} bytes`)
        }
        const bytes = await t.read(req.start, req.end, abort.signal)
        if (bytes.length === 0 || bytes.length > req.end - req.start) throw new Error(`the track gave ${bytes.length} bytes for ${req.start}-${req.end}`)
        e.stream.bytes += bytes.length
        // A copy in a buffer of its own, transferred: a Buffer's .slice() is a view, and its .buffer may be a larger pool.
        const copy = new Uint8Array(bytes).buffer
        reply({ type: 'data', id: req.id, bytes: copy }, [copy])
      }).catch((err: Error) => {
        if (!abort.signal.aborted) reply({ type: 'error', id: req.id, message: err.message })
      })
    }
    e.track.then(
      (t) => {
        if (abort.signal.aborted) return
        counted = true
        e.stream.open++
        reply({ type: 'head', size: t.size, mime: t.mime })
      },
      (err: Error) => {
        reply({ type: 'none', reason: err.message })
        end()
      },
    )
  }

  container.addEventListener('message', onMessage)
  container.startMessages?.()
  return {
    streams() {
      const at = now()
      return [...tracks.values()].reverse().flatMap((e) => {
        if (!e.opened) return []
        const totals = e.opened.sources()
        // Samples within the window; when polled less often than that, the last one before it.
        const recent = e.samples.filter((x) => at - x.at <= window)
        e.samples = recent.length > 0 || e.samples.length === 0 ? recent : [e.samples[e.samples.length - 1]!]
        const oldest = e.samples[0]
        e.samples.push({ at, totals })
        const rate = (device: string, bytes: number) => (oldest && at > oldest.at ? Math.max(0, ((bytes - (oldest.totals[device] ?? 0)) * 1000) / (at - oldest.at)) : 0)
        const sources = Object.entries(totals).map(([device, bytes]) => ({ device, name: device, bytes, rate: Math.round(rate(device, bytes)) }))
        return [{ ...e.stream, sources }]
      })
    },
    forget(sha256) {
      tracks.delete(sha256)
    },
    stop() {
      container.removeEventListener('message', onMessage)
      for (const p of ports) {
        p.postMessage({ type: 'none', reason: 'playback stopped' } satisfies StreamReply)
        p.close()
      }
      ports.clear()
    },
  }
}

/**
 * A Torrent in the page as a PlaybackTrack: a read puts the pieces under it
 * first in the fetch order (the ones after them next; from the start of the
 * file, the tail and then a moment of nothing else, as a Node device's
 * stream does), waits for the piece
 * under `start`, and returns verified bytes from there: to the end of that
 * piece, and on over the following pieces already held.
 */
export function torrentTrack(torrent: Torrent, mime: string, opts: { holdMs?: number } = {}): PlaybackTrack {
  const holdMs = opts.holdMs ?? STARTUP_HOLD_MS
  const { size, pieceLength } = torrent.meta
  let next = -1 // where the last read ended: a read from elsewhere is a new request (a start or a seek)
  return {
    size,
    mime,
    async read(start, end, signal) {
      end = Math.min(end, size)
      if (end <= start) return new Uint8Array(0)
      prefetchForPlayback(torrent, start, end - 1, holdMs)
      // A seek to pieces not here yet: for a moment only they are fetched, so the
      // page is not busy taking in (and hashing) the rest of the track when they come.
      if (start !== 0 && start !== next && !torrent.have.get(Math.floor(start / pieceLength))) torrent.holdBackground(holdMs)
      await torrent.waitFor(start, start, signal)
      let to = Math.min(end, (Math.floor(start / pieceLength) + 1) * pieceLength)
      while (to < end && torrent.have.get(to / pieceLength)) to = Math.min(end, to + pieceLength)
      next = to
      return torrent.readAt(start, to - start)
    },
    sources: () => torrent.sources(),
  }
}
