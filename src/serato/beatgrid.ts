// "Serato BeatGrid" (serato-tags scripts/serato_beatgrid.py): 01 00, a u32
// count, markers of 8 bytes (position in seconds as a big-endian float32;
// then, for every marker but the last, the u32 number of beats to the next
// marker, and for the last the float32 BPM) and one footer byte.
import { Cursor } from './bytes.ts'
import { SeratoError } from './errors.ts'

export interface SeratoGridMarker {
  positionS: number
  /** Non-terminal markers: beats until the next marker. */
  beatsToNext?: number
  /** The terminal marker: its BPM. */
  bpm?: number
}

const WHAT = 'Serato BeatGrid'
const MAX_MARKERS = 10_000

export function parseBeatGrid(data: Uint8Array): SeratoGridMarker[] {
  const c = new Cursor(data, WHAT)
  const a = c.u8('version')
  const b = c.u8('version')
  if (a !== 1 || b !== 0) c.fail(`version ${a}.${b}, not 1.0`)
  const count = c.u32('count')
  if (count > MAX_MARKERS) throw new SeratoError('ERR_TOO_LARGE', `${WHAT}: ${count} markers, more than ${MAX_MARKERS}`)
  c.need(count * 8, `${count} markers`)
  const out: SeratoGridMarker[] = []
  for (let i = 0; i < count; i++) {
    const positionS = c.f32('position')
    if (i === count - 1) out.push({ positionS, bpm: c.f32('bpm') })
    else out.push({ positionS, beatsToNext: c.u32('beats to next') })
  }
  return out
}

export function buildBeatGrid(markers: readonly SeratoGridMarker[]): Buffer {
  const out = Buffer.alloc(2 + 4 + markers.length * 8 + 1)
  out[0] = 1
  out.writeUInt32BE(markers.length, 2)
  markers.forEach((m, i) => {
    out.writeFloatBE(m.positionS, 6 + i * 8)
    if (i === markers.length - 1) out.writeFloatBE(m.bpm ?? 0, 10 + i * 8)
    else out.writeUInt32BE(m.beatsToNext ?? 0, 10 + i * 8)
  })
  return out
}
