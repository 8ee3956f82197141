// "Serato Markers_" as it sits in an ID3 GEOB (serato-tags
// docs/serato_markers_.md): 02 05, a u32 count, 22-byte entries (the first 5
// hot cues, then saved loops) and a 4-byte track colour. Values are
// "serato32": 3 bytes spread over 4 with the top bit of each byte unused.
// Serato prefers these positions to Markers2's when both are present.
// MP4's "markers" atom uses another layout: not read (Markers2 is).
import { Cursor, hexColor } from './bytes.ts'
import { SeratoError } from './errors.ts'

export interface SeratoMarker1 {
  kind: 'cue' | 'loop'
  index: number
  /** Absent: the entry is not set. */
  startMs?: number
  endMs?: number
  color: string
  locked: boolean
}

export interface SeratoMarkers1 {
  cues: SeratoMarker1[]
  loops: SeratoMarker1[]
  trackColor?: string
}

const WHAT = 'Serato Markers_'
const MAX_ENTRIES = 64
/** Entries before the loops: Markers_ keeps the first 5 hot cues. */
export const MARKERS1_CUES = 5

/** 4 bytes of 7 bits each -> the 24-bit value they carry. */
export function serato32(b: Uint8Array): number {
  const [w, x, y, z] = [b[0]!, b[1]!, b[2]!, b[3]!]
  const c = (z & 0x7f) | ((y & 0x01) << 7)
  const bb = ((y & 0x7f) >> 1) | ((x & 0x03) << 6)
  const a = ((x & 0x7f) >> 2) | ((w & 0x07) << 5)
  return (a << 16) | (bb << 8) | c
}

export function toSerato32(v: number): Buffer {
  const a = (v >> 16) & 0xff
  const b = (v >> 8) & 0xff
  const c = v & 0xff
  return Buffer.from([a >> 5, ((b >> 6) | (a << 2)) & 0x7f, ((c >> 7) | (b << 1)) & 0x7f, c & 0x7f])
}

export function parseMarkers1(data: Uint8Array): SeratoMarkers1 {
  const c = new Cursor(data, WHAT)
  const a = c.u8('version')
  const b = c.u8('version')
  if (a !== 2 || b !== 5) c.fail(`version ${a}.${b}, not 2.5`)
  const count = c.u32('count')
  if (count > MAX_ENTRIES) throw new SeratoError('ERR_TOO_LARGE', `${WHAT}: ${count} entries, more than ${MAX_ENTRIES}`)
  c.need(count * 22, `${count} entries`)
  const out: SeratoMarkers1 = { cues: [], loops: [] }
  for (let i = 0; i < count; i++) {
    const startSet = c.u8('start set') === 0
    const start = serato32(c.bytes(4, 'start'))
    const endSet = c.u8('end set') === 0
    const end = serato32(c.bytes(4, 'end'))
    c.bytes(6, 'pad')
    const color = hexColor(serato32(c.bytes(4, 'colour')))
    const type = c.u8('type')
    const locked = c.u8('locked') !== 0
    const kind = i < MARKERS1_CUES ? 'cue' : 'loop'
    const m: SeratoMarker1 = { kind, index: kind === 'cue' ? i : i - MARKERS1_CUES, color, locked }
    // Type 0 is an unset slot whatever its flags say; 1 a cue, 3 a loop.
    if (startSet && type !== 0) m.startMs = start
    if (endSet && type !== 0) m.endMs = end
    ;(kind === 'cue' ? out.cues : out.loops).push(m)
  }
  if (c.left >= 4) {
    const color = serato32(c.bytes(4, 'track colour'))
    out.trackColor = hexColor(color)
  }
  return out
}
