// A one-line progress bar for a TTY: files, MB, rate and ETA. On anything
// that is not a TTY it draws nothing, so piped output stays clean.
export interface ProgressState {
  label: string
  done: number
  total: number
  bytesDone: number
  bytesTotal: number
}

const MB = 1e6
const RENDER_INTERVAL = 100 // ms

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--'
  const s = Math.round(seconds)
  const m = Math.floor(s / 60)
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`
}

export class ProgressBar {
  private last = 0
  private readonly started = performance.now()
  private drawn = false

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  get enabled(): boolean {
    return this.out.isTTY === true
  }

  update(s: ProgressState, force = false): void {
    if (!this.enabled) return
    const now = performance.now()
    if (!force && now - this.last < RENDER_INTERVAL) return
    this.last = now
    const elapsed = (now - this.started) / 1000
    const rate = s.bytesDone / MB / Math.max(elapsed, 1e-3)
    const fraction = s.bytesTotal > 0 ? s.bytesDone / s.bytesTotal : s.total > 0 ? s.done / s.total : 0
    const eta = rate > 0 ? (s.bytesTotal - s.bytesDone) / MB / rate : NaN
    const text = ` ${s.done}/${s.total} files  ${(s.bytesDone / MB).toFixed(0)}/${(s.bytesTotal / MB).toFixed(0)} MB  ${rate.toFixed(1)} MB/s  ETA ${formatEta(eta)}`
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - text.length - s.label.length - 4))
    const filled = Math.round(Math.min(1, fraction) * width)
    this.out.write(`\r\x1b[2K${s.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${text}`)
    this.drawn = true
  }

  /** Clears the bar so the next line starts clean. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[2K')
    this.drawn = false
  }
}
