// How times, rates and sizes read in the UI.

/** 75.4 -> "1:15", 3725 -> "1:02:05"; unknown -> "--:--". */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '--:--'
  const s = Math.floor(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** Bytes per second as people read it: "512 B/s", "1.5 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?'
  if (n < 1000) return `${Math.round(n)} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n
  let u = -1
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`
}

/**
 * A tempo always with one decimal, as Traktor and Serato show it: 128 ->
 * "128.0", 128.46 -> "128.5", 135.04 -> "135.0", so a column of tempi lines
 * up and a whole tag and an analysed tempo read alike. Unknown -> "".
 */
/** A last-played time as a date ("2026-12-05"); '' when never. */
export function formatDay(ms: number): string {
  if (!Number.isFinite(ms)) return ''
  const d = new Date(ms)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

export function formatBpm(bpm: number): string {
  if (!Number.isFinite(bpm)) return ''
  return (Math.round(bpm * 10) / 10).toFixed(1)
}
