// Traktor's history time: EXTENDEDDATA STARTDATE packs year << 16 | month << 8
// | day, STARTTIME is seconds since local midnight. The model keeps the
// local wall-clock time as text: the file has no time zone.

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** "YYYY-MM-DDTHH:MM:SS", or null when the date is no calendar date (Traktor writes 0 when it has none). */
export function playedAtOf(startDate: number, startTime: number): string | null {
  const year = startDate >>> 16
  const month = (startDate >>> 8) & 0xff
  const day = startDate & 0xff
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null
  if (!Number.isInteger(startTime) || startTime < 0 || startTime >= 86_400) return null
  const h = Math.floor(startTime / 3600)
  const m = Math.floor((startTime % 3600) / 60)
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(h)}:${pad(m)}:${pad(startTime % 60)}`
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

export const PLAYED_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/

/** STARTDATE and STARTTIME of a playedAt text; null if it is not one. */
export function traktorStart(playedAt: string): { date: number; time: number } | null {
  const m = PLAYED_AT.exec(playedAt)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 || y < 1) return null
  return { date: (y << 16) | (mo << 8) | d, time: h * 3600 + mi * 60 + s }
}
