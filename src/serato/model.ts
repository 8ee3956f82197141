// A file's Serato tags in the djformats model: hot cues A-H by index, saved
// loops as memory loops (Serato numbers loops apart from hot cues, so a loop
// cannot take a hot cue's slot), the grid, the track colour as shown and the
// BPM lock. "Serato Markers_" wins over Markers2 where both are present, as
// Serato itself reads them (Mixxx's SeratoTags::importCueInfos): its set
// entries give the positions, and a hot cue 1-5 it leaves unset is unset.
import type { DjBeat, DjCue } from '../djformats/index.ts'
import { parseBeatGrid, type SeratoGridMarker } from './beatgrid.ts'
import { trackColorShown } from './colors.ts'
import type { SeratoPayloads } from './container.ts'
import { SeratoError } from './errors.ts'
import { MARKERS1_CUES, parseMarkers1 } from './markers1.ts'
import { parseMarkers2, type SeratoCue, type SeratoLoop } from './markers2.ts'

export interface SeratoTrackTags {
  cues: DjCue[]
  grid: DjBeat[]
  /** The track colour as Serato shows it. */
  color?: string
  bpmLock?: boolean
  /** Tags damaged or read past, one line each (a damaged tag is left out; the others are read). */
  warnings: string[]
}

/** Hot cues Serato has. */
export const SERATO_HOT_CUES = 8

/**
 * The colours Serato gives hot cues 1-8 and saved loops when the DJ picks
 * none (as stored; Mixxx's kSeratoTrackMetadataHotcueColorPalette, and every
 * cue of serato-tags' test data). Serato always stores a colour, so these
 * read as "no colour": a cue djcloud wrote without one comes back without
 * one, and a re-import changes nothing.
 */
export const SERATO_CUE_COLORS = ['#cc0000', '#cc8800', '#0000cc', '#cccc00', '#00cc00', '#cc00cc', '#00cccc', '#8800cc'] as const
export const SERATO_LOOP_COLOR = '#27aae1'

/** Grid rows from Serato's markers: a non-terminal marker's tempo is its beats over the time to the next. */
export function gridOf(markers: readonly SeratoGridMarker[], warn: (m: string) => void): DjBeat[] {
  const rows: DjBeat[] = []
  for (let i = 0; i < markers.length; i++) {
    const m = markers[i]!
    const positionMs = Math.round(m.positionS * 1e6) / 1e3 // float32 seconds, to the microsecond
    let bpm: number
    if (m.bpm !== undefined) bpm = Math.round(m.bpm * 1e4) / 1e4
    else {
      const next = markers[i + 1]!
      const span = next.positionS - m.positionS
      bpm = span > 0 && m.beatsToNext! > 0 ? Math.round(((m.beatsToNext! * 60) / span) * 1e4) / 1e4 : NaN
    }
    if (!(Number.isFinite(positionMs) && positionMs >= 0 && Number.isFinite(bpm) && bpm > 0 && bpm < 1000)) {
      warn(`Serato BeatGrid: marker ${i + 1} (${m.positionS} s, ${m.bpm ?? m.beatsToNext}) is not a usable grid row: passed over`)
      continue
    }
    rows.push({ positionMs, bpm, beatOfBar: 1 })
  }
  return rows
}

export function seratoTrackTags(p: SeratoPayloads): SeratoTrackTags {
  const out: SeratoTrackTags = { cues: [], grid: [], warnings: [...p.warnings] }
  const guard = <T>(fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (err) {
      if (!(err instanceof SeratoError)) throw err
      out.warnings.push(err.message)
      return undefined
    }
  }
  const m2 = p.tags['Serato Markers2'] ? guard(() => parseMarkers2(p.tags['Serato Markers2']!)) : undefined
  const m1 = p.container === 'id3' && p.tags['Serato Markers_'] ? guard(() => parseMarkers1(p.tags['Serato Markers_']!)) : undefined
  const grid = p.tags['Serato BeatGrid'] ? guard(() => parseBeatGrid(p.tags['Serato BeatGrid']!)) : undefined

  const cues = new Map<number, SeratoCue>()
  const loops = new Map<number, SeratoLoop>()
  for (const q of m2?.cues ?? []) {
    if (q.index >= SERATO_HOT_CUES) out.warnings.push(`Serato Markers2: hot cue index ${q.index} is past H: passed over`)
    else if (!cues.has(q.index)) cues.set(q.index, q)
  }
  for (const l of m2?.loops ?? []) if (!loops.has(l.index)) loops.set(l.index, l)
  if (m1) {
    for (const e of m1.cues) {
      if (e.startMs === undefined) {
        if (e.index < MARKERS1_CUES) cues.delete(e.index)
        continue
      }
      const had = cues.get(e.index)
      cues.set(e.index, { index: e.index, positionMs: e.startMs, color: e.color, name: had?.name ?? '' })
    }
    for (const e of m1.loops) {
      if (e.startMs === undefined || e.endMs === undefined) continue
      const had = loops.get(e.index)
      loops.set(e.index, { index: e.index, startMs: e.startMs, endMs: e.endMs, name: had?.name ?? '', locked: e.locked, ...(had?.color ? { color: had.color } : {}) })
    }
  }
  for (const q of [...cues.values()].sort((a, b) => a.index - b.index)) {
    const color = q.color === SERATO_CUE_COLORS[q.index] ? undefined : q.color
    out.cues.push({ type: 'cue', slot: q.index, positionMs: q.positionMs, ...(color ? { color } : {}), ...(q.name ? { name: q.name } : {}) })
  }
  for (const l of [...loops.values()].sort((a, b) => a.index - b.index)) {
    if (l.endMs <= l.startMs) {
      out.warnings.push(`Serato loop ${l.index + 1} ends (${l.endMs} ms) before it starts (${l.startMs} ms): passed over`)
      continue
    }
    const color = l.color === SERATO_LOOP_COLOR ? undefined : l.color
    out.cues.push({ type: 'loop', slot: null, positionMs: l.startMs, lengthMs: l.endMs - l.startMs, ...(color ? { color } : {}), ...(l.name ? { name: l.name } : {}) })
  }
  const stored = m1?.trackColor && m1.trackColor !== '#ffffff' ? m1.trackColor : m2?.trackColor
  const shown = stored ? trackColorShown(stored) : undefined
  if (shown) out.color = shown
  if (m2?.bpmLock !== undefined) out.bpmLock = m2.bpmLock
  if (grid) out.grid = gridOf(grid, (m) => out.warnings.push(m))
  return out
}
