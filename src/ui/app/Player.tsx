// The player docked at the bottom: one HTMLAudioElement on /stream/<sha256>,
// the waveform with cues, live stream sources, volume, and the next track of
// the queue prefetched. Space plays/pauses, left/right arrows seek 5 s.
import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react'
import { advance, formatBytes, formatRate, formatTime, heard, playCounts, prefetchRange, startListening, upNext, wholeFetchesAhead, type Listened } from '../logic/index.ts'
import { api, ApiError, authHeaders, describe, streamProblem, streamUrl } from './api.ts'
import { Cues, NotesLine, useCues } from './Cues.tsx'
import { pageStream, setPageStreams } from './page-streams.ts'
import { Waveform } from './Waveform.tsx'
import type { HeldTrack, PageDevice } from './runtime.ts'
import type { Notify, PlayEntry, PlayQueue } from './types.ts'

const SEEK_STEP = 5 // s, per arrow key
const STREAMS_POLL = 1000 // ms, while playing
const FETCH_AHEAD = 2 // tracks of a playlist fetched whole while the one before them plays

interface StreamSource {
  device: string
  name: string
  bytes: number
  rate: number
}

interface StreamInfo {
  sha256: string
  bytes: number
  sources: StreamSource[]
}

interface Props {
  queue: PlayQueue | null
  setQueue: Dispatch<SetStateAction<PlayQueue | null>>
  notify: Notify
  /** The page's own device, when this browser runs one: its store's tracks and pins. */
  runtime?: PageDevice | null
}

declare global {
  interface Window {
    __djcloud?: { audio: HTMLAudioElement; setPageStreams: typeof setPageStreams }
  }
}

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')

function unavailableMessage(entry: PlayEntry, err: ApiError | null): string {
  const away = entry.holders.filter((h) => !h.online && !h.self).map((h) => h.name)
  if (err?.code === 'ERR_TRACK_UNAVAILABLE' && away.length && !entry.holders.some((h) => h.online))
    return `Track unavailable: ${away.join(', ')} ${away.length > 1 ? 'are' : 'is'} offline`
  if (err) return describe(err)
  return 'This track cannot be played here (the browser could not decode it, or the stream broke off)'
}

/** Why a track this browser does not hold failed to play while the node cannot be reached. */
export const NOT_HELD_OFFLINE = 'Not kept in this browser, and none of your devices can be reached: this track cannot play offline (pin a track to keep it here)'

export function Player({ queue, setQueue, notify, runtime = null }: Props) {
  const audio = useRef<HTMLAudioElement>(null)
  const playhead = useRef<HTMLDivElement>(null)
  const timeText = useRef<HTMLSpanElement>(null)
  const [playing, setPlaying] = useState(false)
  const [duration, setDuration] = useState(NaN)
  const [volume, setVolume] = useState(() => {
    const v = Number(localStorage.getItem('djcloud.volume'))
    return Number.isFinite(v) && v >= 0 && v <= 1 && localStorage.getItem('djcloud.volume') !== null ? v : 0.8
  })
  const [problem, setProblem] = useState<string | null>(null)
  const [stream, setStream] = useState<StreamInfo | null>(null)
  const current = queue ? (queue.entries[queue.index] ?? null) : null
  const cues = useCues(current?.audioHash ?? null, notify)
  const [held, setHeld] = useState<HeldTrack | null>(null)
  const [pinning, setPinning] = useState(false)

  // What this browser's store has of the current track (its index, in memory): shown, and pinned from here.
  useEffect(() => {
    if (!runtime || !current) return setHeld(null)
    const look = () => setHeld(runtime.tracks().find((t) => t.sha256 === current.sha256) ?? null)
    look()
    const t = window.setInterval(look, STREAMS_POLL)
    return () => window.clearInterval(t)
  }, [runtime, current?.sha256])

  const pin = useCallback(async () => {
    if (!runtime || !current) return
    setPinning(true)
    try {
      await runtime.pin(current.sha256, !held?.pinned)
    } catch (err) {
      notify(`Could not ${held?.pinned ? 'unpin' : 'pin'} the track: ${describe(err)}`)
    } finally {
      setPinning(false)
      setHeld(runtime.tracks().find((t) => t.sha256 === current.sha256) ?? null)
    }
  }, [runtime, current, held?.pinned, notify])

  // Tests read the element, and stand in for a browser device's runtime (only with ?test=1 in the URL).
  useEffect(() => {
    if (audio.current && new URLSearchParams(location.search).has('test')) window.__djcloud = { audio: audio.current, setPageStreams }
  }, [])

  // A play request: load the stream and start.
  useEffect(() => {
    const a = audio.current
    if (!a || !current) return
    setProblem(null)
    setStream(null)
    setDuration(Number.isFinite(current.duration) ? current.duration : NaN)
    a.src = streamUrl(current.sha256)
    a.play().catch((err: unknown) => {
      // AbortError: another track was asked for before this one started.
      if (err instanceof DOMException && err.name === 'AbortError') return
      if (err instanceof DOMException && err.name === 'NotAllowedError') setProblem('The browser blocked playback: press play')
    })
    // Keyed on the play request, not the index: a reordered playlist moves the index without a restart.
  }, [current?.sha256, queue?.started])

  useEffect(() => {
    if (audio.current) audio.current.volume = volume
    localStorage.setItem('djcloud.volume', String(volume))
  }, [volume])

  // The playhead and clock follow the audio at its timeupdate (about 4 times
  // a second) and on a seek, not every frame: painting each frame, or at
  // each device pixel, cost 6-20% of a core while playing where this costs
  // under 1% (bench/browser, a battery's worth on a phone). At 4 Hz the
  // playhead of a 5-minute track on 1,000 pixels moves a pixel at a time.
  useEffect(() => {
    const a = audio.current
    if (!a) return
    let shown = { at: '', time: '' }
    const paint = () => {
      const d = Number.isFinite(a.duration) ? a.duration : duration
      const width = playhead.current?.parentElement?.clientWidth ?? 0
      const dpr = window.devicePixelRatio || 1
      // A transform on the playhead's own layer (styles.css) repaints nothing
      // else; written only when it moves a device pixel or the clock a second.
      const px = d > 0 ? Math.floor(Math.min(1, a.currentTime / d) * width * dpr) / dpr : 0
      const at = `translateX(${px}px)`
      const time = formatTime(a.currentTime)
      if (playhead.current && at !== shown.at) playhead.current.style.transform = at
      if (timeText.current && time !== shown.time) timeText.current.textContent = time
      shown = { at, time }
    }
    paint()
    a.addEventListener('seeked', paint)
    a.addEventListener('timeupdate', paint)
    // In pixels now, not %: a resized waveform (paused, too) puts it back at once.
    window.addEventListener('resize', paint)
    return () => {
      a.removeEventListener('seeked', paint)
      a.removeEventListener('timeupdate', paint)
      window.removeEventListener('resize', paint)
    }
  }, [playing, duration, current?.sha256])

  // The play history: once half the track (or four minutes) was really played, the node is told (docs/plays.md).
  const listened = useRef<Listened>(startListening())
  useEffect(() => {
    const a = audio.current
    if (!a || !current) return
    listened.current = startListening(a.currentTime)
    const onTime = () => {
      listened.current = heard(listened.current, a.currentTime)
      const d = Number.isFinite(a.duration) ? a.duration : current.duration
      if (!playCounts(listened.current, d)) return
      listened.current = { ...listened.current, reported: true }
      const body = { sha256: current.sha256, listened: listened.current.seconds, ...(Number.isFinite(d) && d > 0 ? { duration: d } : {}) }
      api('/api/plays', { method: 'POST', body }).catch(() => {}) // a node without play history: nothing to tell
    }
    const onSeek = () => (listened.current = { ...listened.current, at: a.currentTime })
    a.addEventListener('timeupdate', onTime)
    a.addEventListener('seeked', onSeek)
    return () => {
      a.removeEventListener('timeupdate', onTime)
      a.removeEventListener('seeked', onSeek)
    }
  }, [current?.sha256, queue?.started])

  // Who feeds the stream, every second while playing.
  useEffect(() => {
    if (!playing || !current) return
    let stopped = false
    const poll = () => {
      // A track this page (a browser device) feeds itself: its sources are the page's.
      const own = pageStream(current.sha256)
      if (own) return Promise.resolve(setStream(own))
      return api<{ streams: StreamInfo[] }>('/api/streams').then(
        ({ streams }) => {
          if (stopped) return
          const s = streams.find((x) => x.sha256 === current.sha256)
          if (s) setStream(s)
        },
        (err) => {
          // A node without the endpoint: stop asking.
          if (err instanceof ApiError && err.status === 404) stopped = true
        },
      )
    }
    void poll()
    const t = window.setInterval(() => !stopped && void poll(), STREAMS_POLL)
    return () => {
      stopped = true
      window.clearInterval(t)
    }
  }, [playing, current])

  // The next track's first bytes are fetched once this one plays, so the node
  // (and the browser cache) have them when it starts.
  const next = upNext(queue)
  useEffect(() => {
    if (!playing || !next) return
    const ac = new AbortController()
    fetch(`/stream/${next.sha256}`, { headers: { Range: prefetchRange(), ...authHeaders() }, signal: ac.signal, credentials: 'same-origin' })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined) // a hint only: playing it later reports any error
    return () => ac.abort()
  }, [playing, next?.sha256])

  // A playlist's next tracks come whole into this device's cache while this one plays.
  const ahead = wholeFetchesAhead(queue, FETCH_AHEAD).map((e) => e.sha256)
  useEffect(() => {
    if (!playing || ahead.length === 0) return
    const ac = new AbortController()
    void (async () => {
      for (const sha256 of ahead) {
        if (ac.signal.aborted) return
        // One at a time, after the playing track's own stream; a failure shows when it is played.
        await fetch('/api/fetch', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authHeaders() },
          body: JSON.stringify({ sha256 }),
          signal: ac.signal,
          credentials: 'same-origin',
        }).catch(() => undefined)
      }
    })()
    return () => ac.abort()
  }, [playing, ahead.join(',')])

  const onEnded = useCallback(() => {
    setQueue((q) => {
      const n = q ? advance(q) : null
      return n ? { ...n, started: q!.started + 1 } : q
    })
  }, [setQueue])

  const onError = useCallback(async () => {
    const a = audio.current
    if (!a || !current || !a.getAttribute('src')) return
    const err = await streamProblem(current.sha256)
    // Not here whole, and neither the node (it failed to answer) nor a linked device to fetch from: nothing can feed it.
    // The node's answer to the probe may be an old cached one (the prefetch of a track up next), so no links says it too.
    const unreachable = err?.code === 'ERR_OFFLINE' || (runtime !== null && runtime.links().length === 0)
    const here = runtime?.tracks().some((t) => t.sha256 === current.sha256 && t.complete) ?? false
    setProblem(runtime && unreachable && !here ? NOT_HELD_OFFLINE : unavailableMessage(current, err))
    setPlaying(false)
  }, [current, runtime])

  const toggle = useCallback(() => {
    const a = audio.current
    if (!a || !current) return
    if (a.paused) {
      setProblem(null)
      // After a failed load, try the stream again (a device may be back); a new failure reports again.
      if (a.error) a.src = streamUrl(current.sha256)
      a.play().catch(() => undefined)
    } else a.pause()
  }, [current])

  const seek = useCallback((t: number) => {
    const a = audio.current
    if (!a || !current) return
    const d = Number.isFinite(a.duration) ? a.duration : duration
    a.currentTime = Math.max(0, Number.isFinite(d) ? Math.min(d, t) : t)
  }, [current, duration])

  // Keyboard: space, left, right (not while typing in a field).
  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target)) return
      const a = audio.current
      if (e.code === 'Space' || e.key === ' ') {
        e.preventDefault() // no page scroll, no click on a focused button
        toggle()
      } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && a && current) {
        e.preventDefault()
        seek(a.currentTime + (e.key === 'ArrowLeft' ? -SEEK_STEP : SEEK_STEP))
      }
    }
    const up = (e: KeyboardEvent) => {
      if ((e.code === 'Space' || e.key === ' ') && !isTyping(e.target)) e.preventDefault()
    }
    window.addEventListener('keydown', down)
    window.addEventListener('keyup', up)
    return () => {
      window.removeEventListener('keydown', down)
      window.removeEventListener('keyup', up)
    }
  }, [toggle, seek, current])

  const sources = stream?.sources ?? []
  return (
    <footer className={`player${current ? '' : ' idle'}`} data-testid="player">
      <audio
        ref={audio}
        preload="auto"
        onPlay={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onEnded={onEnded}
        onError={() => void onError()}
        onDurationChange={(e) => Number.isFinite(e.currentTarget.duration) && setDuration(e.currentTarget.duration)}
        onPlaying={() => setProblem(null)}
      />
      <div className="transport">
        <button data-testid="play-pause" className="play" onClick={toggle} disabled={!current} aria-label={playing ? 'Pause' : 'Play'}>
          {playing ? '❚❚' : '▶'}
        </button>
        <div className="now">
          <div className="title" title={current?.title}>
            {current ? current.title || current.sha256.slice(0, 12) : 'Nothing playing: double-click a track'}
          </div>
          <div className="artist">{current?.artist}</div>
        </div>
        <div className="time">
          <span data-testid="time-current" ref={timeText}>
            0:00
          </span>
          {' / '}
          <span data-testid="time-total">{formatTime(duration)}</span>
        </div>
        <label className="volume">
          <span className="dim">Vol</span>
          <input
            data-testid="volume"
            type="range"
            min={0}
            max={1}
            step={0.01}
            value={volume}
            onChange={(e) => setVolume(Number(e.target.value))}
            aria-label="Volume"
          />
        </label>
      </div>
      {problem && (
        <div className="player-error" data-testid="player-error" role="alert">
          {problem}
        </div>
      )}
      <Waveform audioHash={current?.audioHash ?? null} duration={duration} cues={cues.list} onSeek={seek} playheadRef={playhead} />
      <div className="player-extra">
        <ul className="sources" data-testid="stream-sources" aria-label="Devices feeding the stream">
          {sources.map((s) => (
            <li key={s.device} data-testid="stream-source" data-device={s.name}>
              <b>{s.device === 'local' ? 'this device' : s.name}</b> {formatRate(s.rate)} <span title="bytes so far">({formatBytes(s.bytes)})</span>
            </li>
          ))}
        </ul>
        {runtime && current && (
          <span className="page-held" data-testid="page-held" data-held={held?.complete ? 'whole' : held ? 'part' : 'none'} data-pinned={held?.pinned ? 'yes' : 'no'}>
            {held?.complete ? 'kept in this browser' : held ? 'partly in this browser' : 'not in this browser'}{' '}
            <button data-testid="page-pin" onClick={() => void pin()} disabled={pinning} aria-pressed={held?.pinned === true}>
              {pinning ? 'pinning…' : held?.pinned ? 'Unpin' : 'Pin'}
            </button>
          </span>
        )}
        {current && <Cues cues={cues} audioRef={audio} onJump={seek} />}
        {current && <NotesLine audioHash={current.audioHash} />}
        {next && (
          <span className="up-next" data-testid="up-next">
            Next: {next.title || next.sha256.slice(0, 12)}
          </span>
        )}
      </div>
    </footer>
  )
}
