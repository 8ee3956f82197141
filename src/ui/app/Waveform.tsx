// The coloured waveform on a canvas (height: peak; colour: band energies),
// the cue markers over it, and the playhead, which the player moves itself
// (through playheadRef) so the page does not re-render every frame.
import { useEffect, useRef, useState, type MouseEvent, type RefObject } from 'react'
import { bandColor, cssColor, cueLabel, decodeBase64, pickLevel, resample, seekTime, type Cue, type WaveformLevel } from '../logic/index.ts'
import { api, ApiError } from './api.ts'

interface Props {
  audioHash: string | null
  duration: number
  cues: Cue[]
  onSeek: (seconds: number) => void
  playheadRef: RefObject<HTMLDivElement | null>
}

type Loaded = { hash: string; levels: WaveformLevel[] | null }

export function Waveform({ audioHash, duration, cues, onSeek, playheadRef }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null)
  const [loaded, setLoaded] = useState<Loaded | null>(null)
  const [width, setWidth] = useState(0)

  useEffect(() => {
    if (!audioHash) return
    const ac = new AbortController()
    api<{ levels: WaveformLevel[] }>(`/api/waveform/${audioHash}`, { signal: ac.signal }).then(
      (w) => setLoaded({ hash: audioHash, levels: Array.isArray(w.levels) ? w.levels : null }),
      (err) => {
        // 404: not analysed yet; anything else: a flat line too (the track still plays).
        if (!ac.signal.aborted) setLoaded({ hash: audioHash, levels: null })
        if (!(err instanceof ApiError) && !ac.signal.aborted) console.warn('waveform', err)
      },
    )
    return () => ac.abort()
  }, [audioHash])

  useEffect(() => {
    const el = canvas.current
    if (!el) return
    const ro = new ResizeObserver(() => setWidth(el.clientWidth))
    ro.observe(el)
    setWidth(el.clientWidth)
    return () => ro.disconnect()
  }, [])

  useEffect(() => {
    const el = canvas.current
    if (!el || width <= 0) return
    const dpr = Math.min(3, window.devicePixelRatio || 1)
    const h = el.clientHeight
    el.width = Math.round(width * dpr)
    el.height = Math.round(h * dpr)
    const g = el.getContext('2d')
    if (!g) return
    g.setTransform(dpr, 0, 0, dpr, 0, 0)
    g.clearRect(0, 0, width, h)
    const mid = h / 2
    const levels = loaded && loaded.hash === audioHash ? loaded.levels : null
    const level = levels ? pickLevel(levels, Math.round(width * dpr)) : undefined
    if (!level) {
      g.fillStyle = '#3a3f4b'
      g.fillRect(0, mid - 1, width, 2)
      return
    }
    let data: Uint8Array
    try {
      data = decodeBase64(level.data)
    } catch {
      g.fillStyle = '#3a3f4b'
      g.fillRect(0, mid - 1, width, 2)
      return
    }
    const cols = resample(data, level.columns, Math.round(width))
    for (let x = 0; x < cols.peak.length; x++) {
      const amp = Math.max(1, cols.peak[x]! * (mid - 1))
      g.fillStyle = cssColor(bandColor(cols.low[x]!, cols.mid[x]!, cols.high[x]!))
      g.fillRect(x, mid - amp, 1, amp * 2)
    }
  }, [loaded, audioHash, width])

  const click = (e: MouseEvent<HTMLDivElement>) => {
    const rect = e.currentTarget.getBoundingClientRect()
    onSeek(seekTime(e.clientX - rect.left, rect.width, duration))
  }

  const known = Number.isFinite(duration) && duration > 0
  return (
    <div className="waveform-box" onClick={click}>
      <canvas ref={canvas} className="waveform" data-testid="waveform" aria-label="Waveform: click to seek" />
      {known &&
        cues.map((c) => (
          <span
            key={c.id}
            className={`cue-marker ${c.kind}`}
            style={{ left: `${(c.position / duration) * 100}%`, ...(c.color ? { borderColor: c.color } : {}) }}
            title={`${cueLabel(cues, c)} ${c.position.toFixed(2)} s`}
          >
            {c.kind === 'hot' ? c.slot : ''}
          </span>
        ))}
      <div className="playhead" data-testid="playhead" ref={playheadRef} />
    </div>
  )
}
