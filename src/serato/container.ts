// Where Serato's tags sit in each container, as music-metadata hands them
// out: ID3 GEOB frames (MP3, AIFF) by description; Vorbis comments in FLAC
// (SERATO_MARKERS_V2, SERATO_BEATGRID) and MP4 freeform atoms
// (----:com.serato.dj:markersv2, :beatgrid), both base64 of an "envelope":
// "application/octet-stream\0", an empty file name, the GEOB's description,
// NUL, then the same bytes a GEOB would hold (serato-tags docs/fileformats.md).
import type { IAudioMetadata } from 'music-metadata'
import { Cursor } from './bytes.ts'
import { decodeSeratoBase64 } from './base64.ts'
import { MAX_TAG_BYTES } from './markers2.ts'
import { SeratoError } from './errors.ts'

export type SeratoTagName = 'Serato Markers2' | 'Serato Markers_' | 'Serato BeatGrid'

export interface SeratoPayloads {
  container: 'id3' | 'vorbis' | 'mp4'
  /** The GEOB-style bytes of each tag the file has. */
  tags: Partial<Record<SeratoTagName, Uint8Array>>
  /** Things present but not read (Ogg's own layout, a damaged envelope), one line each. */
  warnings: string[]
}

const GEOB_NAMES: readonly string[] = ['Serato Markers2', 'Serato Markers_', 'Serato BeatGrid']
const VORBIS: Record<string, SeratoTagName> = { SERATO_MARKERS_V2: 'Serato Markers2', SERATO_BEATGRID: 'Serato BeatGrid' }
const MP4: Record<string, SeratoTagName> = { '----:com.serato.dj:markersv2': 'Serato Markers2', '----:com.serato.dj:beatgrid': 'Serato BeatGrid' }
const MIME = 'application/octet-stream'

/** The bytes inside a FLAC/MP4 envelope, checked to be the tag it claims. */
export function openEnvelope(text: string, expect: SeratoTagName): Uint8Array {
  if (text.length > MAX_TAG_BYTES * 2) throw new SeratoError('ERR_TOO_LARGE', `${expect}: ${text.length} characters of base64`)
  const bytes = decodeSeratoBase64(text, expect)
  const c = new Cursor(bytes, expect)
  const mime = c.cstring('MIME type', 64, 'latin1')
  if (mime !== MIME) c.fail(`envelope MIME type "${mime}", not ${MIME}`)
  c.cstring('file name', 256)
  const name = c.cstring('description', 64, 'latin1')
  if (name !== expect) c.fail(`envelope holds "${name}", not ${expect}`)
  return c.bytes(c.left, 'payload')
}

const asText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : undefined

export function seratoPayloads(meta: Pick<IAudioMetadata, 'native'>): SeratoPayloads | undefined {
  for (const [type, tags] of Object.entries(meta.native)) {
    const out: SeratoPayloads = { container: type.startsWith('ID3') ? 'id3' : type === 'vorbis' ? 'vorbis' : 'mp4', tags: {}, warnings: [] }
    let any = false
    for (const tag of tags) {
      const v = tag.value as unknown
      if (tag.id === 'GEOB' && v && typeof v === 'object' && 'description' in v && 'data' in v) {
        const { description, data } = v as { description: unknown; data: unknown }
        if (typeof description === 'string' && GEOB_NAMES.includes(description) && data instanceof Uint8Array) {
          // The first frame of a name counts, as music-metadata lists them in file order.
          out.tags[description as SeratoTagName] ??= data
          any = true
        }
        continue
      }
      const name = type === 'vorbis' ? VORBIS[tag.id.toUpperCase()] : MP4[tag.id]
      if (name) {
        any = true
        const text = asText(v)
        if (text === undefined) continue
        try {
          out.tags[name] ??= openEnvelope(text, name)
        } catch (err) {
          if (!(err instanceof SeratoError)) throw err
          out.warnings.push(err.message)
        }
      } else if (type === 'vorbis' && /^serato_markers2?$/.test(tag.id)) {
        // Ogg Vorbis: Serato writes its own text layout, documented nowhere.
        any = true
        out.warnings.push(`Ogg Vorbis "${tag.id}" is in a layout not documented: not read`)
      }
    }
    if (any) return out
  }
  return undefined
}
