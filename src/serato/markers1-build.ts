// Writing "Serato Markers_" (the ID3 layout parseMarkers1 reads): Serato
// prefers it to Markers2, so a Markers2 written without a matching Markers_
// would be overruled by a stale one.
import { rgbOf } from './bytes.ts'
import { MARKERS1_CUES, toSerato32 } from './markers1.ts'

const UNSET = Buffer.from([0x7f, 0x7f, 0x7f, 0x7f])
const PAD = Buffer.from([0, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f])
/** Saved loops Markers_ has room for. */
export const MARKERS1_LOOPS = 9

export interface Markers1Input {
  cues: ReadonlyArray<{ index: number; positionMs: number; color: string }>
  loops: ReadonlyArray<{ index: number; startMs: number; endMs: number; color?: string; locked: boolean }>
  /** Stored track colour. */
  trackColor: string
}

export function buildMarkers1(m: Markers1Input): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 5, 0, 0, 0, MARKERS1_CUES + MARKERS1_LOOPS])]
  const ms = (v: number) => toSerato32(Math.max(0, Math.min(0xffffff, Math.round(v))))
  for (let i = 0; i < MARKERS1_CUES; i++) {
    const q = m.cues.find((c) => c.index === i)
    parts.push(
      q
        ? Buffer.concat([Buffer.from([0]), ms(q.positionMs), Buffer.from([0x7f]), UNSET, PAD, toSerato32(rgbOf(q.color)), Buffer.from([1, 0])])
        : Buffer.concat([Buffer.from([0x7f]), UNSET, Buffer.from([0x7f]), UNSET, PAD, Buffer.alloc(4), Buffer.from([0, 0])]),
    )
  }
  for (let i = 0; i < MARKERS1_LOOPS; i++) {
    const l = m.loops.find((c) => c.index === i)
    parts.push(
      l
        ? Buffer.concat([Buffer.from([0]), ms(l.startMs), Buffer.from([0]), ms(l.endMs), PAD, toSerato32(rgbOf(l.color ?? '#27aae1')), Buffer.from([3, l.locked ? 1 : 0])])
        : Buffer.concat([Buffer.from([0x7f]), UNSET, Buffer.from([0x7f]), UNSET, PAD, Buffer.alloc(4), Buffer.from([3, 0])]),
    )
  }
  parts.push(toSerato32(rgbOf(m.trackColor)))
  return Buffer.concat(parts)
}
