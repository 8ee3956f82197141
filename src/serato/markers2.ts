// "Serato Markers2" (serato-tags docs/serato_markers2.md): a version (01 01)
// and base64 text, NUL-padded. The text decodes to another 01 01 and a list
// of entries, each a NUL-terminated type name, a u32 length and that many
// bytes: CUE (hot cue: index, position ms, colour, name), LOOP (saved loop:
// index, start and end ms, colour, locked, name), COLOR (track colour),
// BPMLOCK, and others (FLIP, ...) read past. Parsed with strict bounds.
import { Cursor, hexColor } from './bytes.ts'
import { decodeSeratoBase64, encodeSeratoBase64 } from './base64.ts'
import { SeratoError } from './errors.ts'

export interface SeratoCue {
  /** Hot cue index 0-7 (A-H). */
  index: number
  positionMs: number
  /** "#rrggbb" as stored. */
  color: string
  name: string
}

export interface SeratoLoop {
  /** Saved loop index (Serato's loops have slots of their own, apart from hot cues). */
  index: number
  startMs: number
  endMs: number
  name: string
  locked: boolean
  color?: string
}

export interface SeratoMarkers2 {
  cues: SeratoCue[]
  loops: SeratoLoop[]
  /** The track colour as stored (Serato stores the colour picker's value; see trackColorShown). */
  trackColor?: string
  bpmLock?: boolean
  /** Entries of other types (FLIP, ...), in order, as their bytes: not read, but kept when the tag is rewritten. */
  others: Array<{ type: string; body: Uint8Array }>
}

/** What a Markers2 is built from: others may be left out. */
export type Markers2Input = Omit<SeratoMarkers2, 'others'> & { others?: SeratoMarkers2['others'] }

const WHAT = 'Serato Markers2'
/** Caps far above what Serato writes (8 cues, 8 loops, a few more entries; under 1 KiB). */
export const MAX_TAG_BYTES = 1 << 20
const MAX_ENTRIES = 512
const MAX_NAME_BYTES = 1024

/** The decoded entry list of a Markers2 payload (GEOB data, or the payload inside a FLAC/MP4 envelope). */
export function markers2Content(data: Uint8Array): Buffer {
  if (data.length > MAX_TAG_BYTES) throw new SeratoError('ERR_TOO_LARGE', `${WHAT}: ${data.length} bytes, more than ${MAX_TAG_BYTES}`)
  const c = new Cursor(data, WHAT)
  const a = c.u8('version')
  const b = c.u8('version')
  if (a !== 1 || b !== 1) c.fail(`version ${a}.${b}, not 1.1`)
  const end = data.indexOf(0, c.pos)
  const text = Buffer.from(data.buffer, data.byteOffset + c.pos, (end < 0 ? data.length : end) - c.pos).toString('latin1')
  return decodeSeratoBase64(text, WHAT)
}

/** Color entry bodies and cue colours: a pad byte, then RGB. */
function rgbAt(c: Cursor, field: string): string {
  const b = c.bytes(3, field)
  return hexColor((b[0]! << 16) | (b[1]! << 8) | b[2]!)
}

/** A name at the end of an entry: NUL-terminated, or running to the entry's end when Serato left the NUL out. */
function tailName(c: Cursor): string {
  const end = c.buf.indexOf(0, c.pos)
  const stop = end < 0 ? c.buf.length : end
  if (stop - c.pos > MAX_NAME_BYTES) c.fail(`name longer than ${MAX_NAME_BYTES} bytes`)
  const s = Buffer.from(c.buf.buffer, c.buf.byteOffset + c.pos, stop - c.pos).toString('utf8')
  c.pos = Math.min(c.buf.length, stop + 1)
  return s
}

export function parseMarkers2(data: Uint8Array): SeratoMarkers2 {
  const content = markers2Content(data)
  const out: SeratoMarkers2 = { cues: [], loops: [], others: [] }
  const c = new Cursor(content, WHAT)
  if (c.left === 0) return out // an empty tag: nothing set
  const a = c.u8('content version')
  const b = c.u8('content version')
  if (a !== 1 || b !== 1) c.fail(`content version ${a}.${b}, not 1.1`)
  let entries = 0
  while (c.left > 0) {
    if (c.buf[c.pos] === 0) break // the list's terminating NUL (and any padding after it)
    if (++entries > MAX_ENTRIES) throw new SeratoError('ERR_TOO_LARGE', `${WHAT}: more than ${MAX_ENTRIES} entries`)
    const type = c.cstring('entry type', 64, 'latin1')
    const length = c.u32(`${type} length`)
    const body = new Cursor(c.bytes(length, `${type} entry`), `${WHAT} ${type}`)
    switch (type) {
      case 'CUE': {
        body.u8('pad')
        const index = body.u8('index')
        const positionMs = body.u32('position')
        body.u8('pad')
        const color = rgbAt(body, 'colour')
        body.bytes(2, 'pad')
        out.cues.push({ index, positionMs, color, name: tailName(body) })
        break
      }
      case 'LOOP': {
        body.u8('pad')
        const index = body.u8('index')
        const startMs = body.u32('start')
        const endMs = body.u32('end')
        body.bytes(4, 'pad')
        body.u8('pad')
        const color = rgbAt(body, 'colour')
        body.u8('pad')
        const locked = body.u8('locked') !== 0
        out.loops.push({ index, startMs, endMs, name: tailName(body), locked, color })
        break
      }
      case 'COLOR':
        body.u8('pad')
        out.trackColor = rgbAt(body, 'colour')
        break
      case 'BPMLOCK':
        out.bpmLock = body.u8('lock') !== 0
        break
      default:
        if (type.length > 0 && /^[\x21-\x7e]+$/.test(type)) out.others.push({ type, body: Buffer.from(body.buf) })
    }
  }
  return out
}

function entry(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(type.length + 5)
  head.write(type, 0, 'latin1')
  head.writeUInt32BE(body.length, type.length + 1)
  return Buffer.concat([head, body])
}

const rgbBytes = (color: string) => Buffer.from(color.slice(1), 'hex')
const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)])

/** The entry list (01 01, entries, NUL), as Serato writes it: COLOR, CUEs, LOOPs, the others (FLIP, ...), BPMLOCK. */
export function markers2Entries(m: Markers2Input): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 1])]
  parts.push(entry('COLOR', Buffer.concat([Buffer.alloc(1), rgbBytes(m.trackColor ?? '#ffffff')])))
  for (const q of m.cues) {
    const head = Buffer.alloc(6)
    head[1] = q.index
    head.writeUInt32BE(Math.round(q.positionMs), 2)
    parts.push(entry('CUE', Buffer.concat([head, Buffer.alloc(1), rgbBytes(q.color), Buffer.alloc(2), cstr(q.name)])))
  }
  for (const l of m.loops) {
    const head = Buffer.alloc(10)
    head[1] = l.index
    head.writeUInt32BE(Math.round(l.startMs), 2)
    head.writeUInt32BE(Math.round(l.endMs), 6)
    const tail = Buffer.from([0xff, 0xff, 0xff, 0xff, 0])
    parts.push(entry('LOOP', Buffer.concat([head, tail, rgbBytes(l.color ?? '#27aae1'), Buffer.from([0, l.locked ? 1 : 0]), cstr(l.name)])))
  }
  for (const o of m.others ?? []) parts.push(entry(o.type, Buffer.from(o.body)))
  parts.push(entry('BPMLOCK', Buffer.from([m.bpmLock ? 1 : 0])))
  parts.push(Buffer.alloc(1))
  return Buffer.concat(parts)
}

/** Serato pads the GEOB payload with NULs to at least this many bytes. */
const MIN_PAYLOAD = 470

/** The GEOB payload: 01 01, the entries in base64 (a line feed every 72 characters), NUL-padded. */
export function buildMarkers2(m: Markers2Input): Buffer {
  const text = Buffer.from(encodeSeratoBase64(markers2Entries(m), true), 'latin1')
  const out = Buffer.alloc(Math.max(MIN_PAYLOAD, text.length + 3))
  out[0] = 1
  out[1] = 1
  text.copy(out, 2)
  return out
}
