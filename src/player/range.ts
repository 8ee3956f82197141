// HTTP Range (RFC 9110 §14): one byte range of a representation of `size`
// bytes. Only single ranges are served; a request for several is answered
// with the whole track (200), which §14.2 allows ("a server MAY ignore the
// Range header field") and which every client handles, whereas a single part
// covering only some of the ranges asked for would not be what was asked.
// Media elements only ever ask for one range.

export type RangeRequest =
  /** No Range header: send everything (200). */
  | { type: 'none' }
  /** A Range header to ignore (not "bytes", unparseable, or several ranges): send everything (200). */
  | { type: 'ignored'; reason: 'unit' | 'malformed' | 'multiple' }
  /** One satisfiable range, `end` inclusive and < size: send it (206). */
  | { type: 'single'; start: number; end: number }
  /** No requested range overlaps the representation: 416 with `Content-Range: bytes *\/size`. */
  | { type: 'unsatisfiable' }

type Spec = { kind: 'satisfiable'; start: number; end: number } | { kind: 'unsatisfiable' } | { kind: 'malformed' }

const INT_RANGE = /^(\d*)-(\d*)$/

/** A decimal position; digits beyond what a double holds exactly count as infinitely far. */
function position(digits: string): number {
  const n = Number(digits)
  return Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY
}

function parseSpec(spec: string, size: number): Spec {
  const m = INT_RANGE.exec(spec)
  if (!m) return { kind: 'malformed' }
  const [, first = '', last = ''] = m
  if (first === '' && last === '') return { kind: 'malformed' }
  if (first === '') {
    // suffix-range: the last N bytes
    const n = position(last)
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'satisfiable', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = position(first)
  const end = last === '' ? Number.POSITIVE_INFINITY : position(last)
  if (end < start) return { kind: 'malformed' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'satisfiable', start, end: Math.min(end, size - 1) }
}

/** Reads a Range header against a representation of `size` bytes. */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { type: 'none' }
  const eq = header.indexOf('=')
  if (eq < 0) return { type: 'ignored', reason: 'malformed' }
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { type: 'ignored', reason: 'unit' }
  // A list (RFC 9110 §5.6.1): optional whitespace around commas, empty elements allowed.
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseSpec(s, size))
  if (specs.length === 0 || specs.some((s) => s.kind === 'malformed')) return { type: 'ignored', reason: 'malformed' }
  if (specs.every((s) => s.kind === 'unsatisfiable')) return { type: 'unsatisfiable' }
  if (specs.length > 1) return { type: 'ignored', reason: 'multiple' }
  const only = specs[0] as Extract<Spec, { kind: 'satisfiable' }>
  return { type: 'single', start: only.start, end: only.end }
}

/** The Content-Range value of a 206 (`bytes a-b/size`) or a 416 (`bytes *\/size`). */
export function contentRange(size: number, range?: { start: number; end: number }): string {
  return range ? `bytes ${range.start}-${range.end}/${size}` : `bytes */${size}`
}
