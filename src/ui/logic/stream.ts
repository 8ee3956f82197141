// /stream/<sha256> answered in the browser (issue 15, docs/browser.md
// "Playing"): the Range rules the service worker applies, and the messages
// it and the page holding the browser device exchange over a MessagePort.
// Pure, so the Node tests check it and both sides share one definition.

/** Posted by the worker to a page (event.data), with the port as its one transfer. */
export const STREAM_OPEN = 'djcloud:stream-open'

/** Worker -> page, on the port. `end` is exclusive; the `data` answering a read may stop short of it (never empty). */
export type StreamRequest = { type: 'read'; id: number; start: number; end: number } | { type: 'close' }
/**
 * Page -> worker, on the port: `ack` at once (this page serves playback:
 * the worker then waits for `head` as long as a track takes to open),
 * `head` or `none` once the track is open or not, `data`/`error` per read.
 */
export type StreamReply =
  | { type: 'ack' }
  | { type: 'head'; size: number; mime: string }
  | { type: 'none'; reason: string }
  | { type: 'data'; id: number; bytes: ArrayBuffer }
  | { type: 'error'; id: number; message: string }

const SHA256_PATH = /^\/stream\/([0-9a-f]{64})$/

/**
 * The query parameter (`from=page`) a browser device's player adds to
 * /stream/ URLs: only those are asked of the pages. Any other /stream/
 * request goes straight to the node, so a page that is not a browser device
 * (the laptop's UI) never waits for pages that will not answer.
 */
export const FROM_PAGE_PARAM = 'from'
export const FROM_PAGE = 'page'

/** `url` (a /stream/ URL, absolute or not) with the from=page marker. */
export function fromPageUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${FROM_PAGE_PARAM}=${FROM_PAGE}`
}

/** The track id of a /stream/<sha256> URL path, or null. */
export function streamTrack(pathname: string): string | null {
  return SHA256_PATH.exec(pathname)?.[1] ?? null
}

/** The track a page is to be asked for: a /stream/<sha256> URL with from=page, else null. */
export function pageStreamTrack(url: URL): string | null {
  return url.searchParams.get(FROM_PAGE_PARAM) === FROM_PAGE ? streamTrack(url.pathname) : null
}

/** What a Range header asks of a `size`-byte body: all of it, bytes [start, end] (inclusive), or nothing it can have (416). */
export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' }

/**
 * One `bytes=` range (first-last, first-, -suffix), as RFC 9110 14.1.2.
 * Several ranges get the whole body (a server may ignore Range; media
 * elements ask for one). Anything else, or a range wholly past the end,
 * is unsatisfiable: the element asked for bytes there are not.
 */
export function parseRange(header: string | null, size: number): RangeAnswer {
  if (header === null) return { kind: 'whole' }
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header)
  if (!m) return { kind: 'unsatisfiable' }
  const specs = m[1]!.split(',').map((s) => s.trim())
  if (specs.length > 1 && specs.every((s) => /^(\d+-\d*|-\d+)$/.test(s))) return { kind: 'whole' }
  const one = /^(\d*)-(\d*)$/.exec(specs[0]!)
  if (specs.length !== 1 || !one || (one[1] === '' && one[2] === '')) return { kind: 'unsatisfiable' }
  if (one[1] === '') {
    const suffix = Number(one[2])
    if (!Number.isSafeInteger(suffix) || suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(one[1])
  const last = one[2] === '' ? size - 1 : Number(one[2])
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start || start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'part', start, end: Math.min(last, size - 1) }
}

/** The headers of an answer to `range` over a `size`-byte body of type `mime`. */
export function rangeHeaders(range: RangeAnswer, size: number, mime: string): { status: number; headers: Record<string, string> } {
  const common = { 'accept-ranges': 'bytes', 'cache-control': 'no-store' }
  switch (range.kind) {
    case 'whole':
      return { status: 200, headers: { ...common, 'content-type': mime, 'content-length': String(size) } }
    case 'part':
      return {
        status: 206,
        headers: { ...common, 'content-type': mime, 'content-length': String(range.end - range.start + 1), 'content-range': `bytes ${range.start}-${range.end}/${size}` },
      }
    case 'unsatisfiable':
      return { status: 416, headers: { ...common, 'content-range': `bytes */${size}` } }
  }
}
