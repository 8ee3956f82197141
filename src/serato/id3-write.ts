// Replacing GEOB frames in an MP3's ID3v2 tag. The tag is rebuilt from the
// old one's frames, byte for byte, minus the GEOBs being replaced, plus the
// new ones; the bytes after the tag (the audio) are copied untouched, so the
// audio hash stays what it was. Tags this code cannot rebuild faithfully
// (ID3v2.2, unsynchronised or with an extended header) are refused, not
// rewritten with a loss.
import { SeratoError } from './errors.ts'

export interface Geob {
  description: string
  data: Uint8Array
}

const MIME = 'application/octet-stream'
/** Room left after the frames, so a later edit by another program need not move the audio. */
const PADDING = 1024

const synchsafe = (n: number) => Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f])
const fromSynchsafe = (b: Uint8Array, at: number) => ((b[at]! & 0x7f) << 21) | ((b[at + 1]! & 0x7f) << 14) | ((b[at + 2]! & 0x7f) << 7) | (b[at + 3]! & 0x7f)

interface Frame {
  id: string
  raw: Buffer
  /** For GEOB frames in Latin-1 or UTF-8: their description. */
  description?: string
}

function geobDescription(body: Buffer): string | undefined {
  const enc = body[0]
  if (enc !== 0 && enc !== 3) return undefined // UTF-16 descriptions: not ours (Serato writes Latin-1)
  const mimeEnd = body.indexOf(0, 1)
  if (mimeEnd < 0) return undefined
  const nameEnd = body.indexOf(0, mimeEnd + 1)
  if (nameEnd < 0) return undefined
  const descEnd = body.indexOf(0, nameEnd + 1)
  if (descEnd < 0) return undefined
  return body.toString(enc === 3 ? 'utf8' : 'latin1', nameEnd + 1, descEnd)
}

/** The data of the first GEOB frame with this description (after its MIME type, file name and description), if any. */
export function geobData(frames: readonly Frame[], description: string): Buffer | undefined {
  const f = frames.find((x) => x.id === 'GEOB' && x.description === description)
  if (!f) return undefined
  const body = f.raw.subarray(10)
  const mimeEnd = body.indexOf(0, 1)
  const nameEnd = body.indexOf(0, mimeEnd + 1)
  const descEnd = body.indexOf(0, nameEnd + 1)
  return body.subarray(descEnd + 1)
}

/** The frames of the ID3v2.3/2.4 tag at the start of `file` and the tag's whole size (0, no tag). */
export function readId3Frames(file: Buffer, what: string): { major: 3 | 4; frames: Frame[]; size: number } {
  if (file.length < 10 || file.toString('latin1', 0, 3) !== 'ID3') return { major: 4, frames: [], size: 0 }
  const major = file[3]!
  const flags = file[5]!
  const cant = (why: string): never => {
    throw new SeratoError('ERR_CANNOT_WRITE', `${what}: its ID3v2.${major} tag ${why}; not rewritten`)
  }
  if (major !== 3 && major !== 4) cant('is not version 2.3 or 2.4')
  if (flags & 0x80) cant('is unsynchronised')
  if (flags & 0x40) cant('has an extended header')
  const size = 10 + fromSynchsafe(file, 6) + (flags & 0x10 ? 10 : 0)
  if (size > file.length) cant('runs past the end of the file')
  const end = 10 + fromSynchsafe(file, 6)
  const frames: Frame[] = []
  let at = 10
  while (at + 10 <= end && file[at] !== 0) {
    const id = file.toString('latin1', at, at + 4)
    if (!/^[A-Z0-9]{4}$/.test(id)) cant(`has a frame id that is none ("${id}") at byte ${at}`)
    const len = major === 4 ? fromSynchsafe(file, at + 4) : file.readUInt32BE(at + 4)
    if (at + 10 + len > end) cant(`has a ${id} frame running past the tag at byte ${at}`)
    const raw = file.subarray(at, at + 10 + len)
    const frame: Frame = { id, raw }
    // Compressed, encrypted or unsynchronised frames keep their bytes; a GEOB among them is not looked into.
    const fmt = file[at + 9]!
    if (id === 'GEOB' && fmt === 0) {
      const d = geobDescription(raw.subarray(10))
      if (d !== undefined) frame.description = d
    }
    frames.push(frame)
    at += 10 + len
  }
  return { major: major as 3 | 4, frames, size }
}

function geobFrame(major: 3 | 4, g: Geob): Buffer {
  const body = Buffer.concat([Buffer.from([0]), Buffer.from(`${MIME}\0\0${g.description}\0`, 'latin1'), Buffer.from(g.data)])
  const head = Buffer.alloc(10)
  head.write('GEOB', 0, 'latin1')
  if (major === 4) synchsafe(body.length).copy(head, 4)
  else head.writeUInt32BE(body.length, 4)
  return Buffer.concat([head, body])
}

/**
 * `file`'s bytes with its ID3v2 tag rebuilt: GEOB frames named in `replace`
 * dropped, `geobs` added (in that order, after the kept frames). The bytes
 * after the old tag follow unchanged.
 */
export function withGeobs(file: Buffer, geobs: readonly Geob[], replace: readonly string[], what: string): Buffer {
  const { major, frames, size } = readId3Frames(file, what)
  const kept = frames.filter((f) => !(f.id === 'GEOB' && f.description !== undefined && replace.includes(f.description)))
  const body = Buffer.concat([...kept.map((f) => f.raw), ...geobs.map((g) => geobFrame(major, g)), Buffer.alloc(PADDING)])
  if (body.length >= 1 << 28) throw new SeratoError('ERR_CANNOT_WRITE', `${what}: the ID3 tag would pass 256 MB`)
  const head = Buffer.alloc(10)
  head.write('ID3', 0, 'latin1')
  head[3] = major
  head[4] = 0
  head[5] = 0 // no footer, no extended header, not unsynchronised (each checked above)
  synchsafe(body.length).copy(head, 6)
  return Buffer.concat([head, body, file.subarray(size)])
}
