// GET/HEAD /stream/<sha256>: a track's bytes with HTTP Range.
//   200  whole track (no Range, or one to ignore: see range.ts)
//   206  one range, with Content-Range
//   304  If-None-Match names this track's ETag
//   416  no satisfiable range, with Content-Range: bytes */SIZE
// The ETag is the quoted SHA-256: the bytes behind a URL never change, so
// caches and If-Range are always right. Headers go out with the first chunk,
// so a source that fails before any byte gives a JSON error (503), not a cut.
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { ApiError, TrackUnavailableError } from './errors.ts'
import { COMMON_HEADERS } from './http-io.ts'
import { FALLBACK_MIME_TYPE } from './mime.ts'
import { contentRange, parseRange } from './range.ts'
import type { RequestContext, Route } from './router.ts'
import { SHA256_HEX, type TrackHandle, type TrackSource } from './track-source.ts'

/** Bytes ahead of a read's start the source is told to prefetch (~25 s of 320 kbps MP3, ~5 s of CD-quality FLAC). */
export const DEFAULT_PREFETCH_BYTES = 1024 * 1024
/** A read that yields nothing for this long is cancelled (ms). */
export const DEFAULT_STALL_TIMEOUT = 30_000

export interface StreamRouteOptions {
  tracks: TrackSource
  prefetchBytes?: number
  stallTimeoutMs?: number
  /** Told about sources that misbehave or fail mid-response. */
  warn?: (message: string, fields: Record<string, unknown>) => void
  /**
   * Answers `?format=opus|mp3|aac` (with `maxBitRate` kbps, `timeOffset` s) with
   * a rendition; false when no source has the track. Absent: such a request
   * is 501 ERR_NO_ENCODER. `format=raw` (or none) is always the bytes.
   */
  transcode?: (ctx: RequestContext, sha256: string, request: TranscodeQuery) => Promise<boolean>
}

export interface TranscodeQuery {
  format: string
  /** kbps; 0: the format's default */
  maxKbps: number
  /** seconds */
  offset: number
}

/** `format`, `maxBitRate`, `timeOffset` of a /stream query; null for the bytes as they are. */
export function transcodeQuery(query: URLSearchParams): TranscodeQuery | null {
  const format = query.get('format')
  if (format === null || format === '' || format === 'raw') return null
  if (!/^[a-z0-9]{1,8}$/.test(format)) throw new ApiError(400, 'ERR_BAD_PARAM', 'format is raw, opus, mp3 or aac')
  const kbps = query.get('maxBitRate') ?? '0'
  const offset = query.get('timeOffset') ?? '0'
  if (!/^\d{1,6}$/.test(kbps)) throw new ApiError(400, 'ERR_BAD_PARAM', 'maxBitRate is a whole number of kbps')
  if (!/^\d{1,6}(\.\d{1,6})?$/.test(offset) || Number(offset) > 86_400) throw new ApiError(400, 'ERR_BAD_PARAM', 'timeOffset is seconds, at most 86400')
  return { format, maxKbps: Number(kbps), offset: Number(offset) }
}

const CACHE_CONTROL = 'private, max-age=31536000, immutable'

export function streamRoute(opts: StreamRouteOptions): Route {
  const prefetchBytes = opts.prefetchBytes ?? DEFAULT_PREFETCH_BYTES
  const stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT
  const warn = opts.warn ?? (() => {})
  return {
    methods: ['GET'],
    path: '/stream/:sha256',
    async handle(ctx) {
      const id = ctx.params.sha256 ?? ''
      if (!SHA256_HEX.test(id)) throw new ApiError(400, 'ERR_BAD_ID', 'a track id is its SHA-256: 64 lowercase hex digits')
      const rendition = transcodeQuery(ctx.query)
      if (rendition) {
        if (!opts.transcode) throw new ApiError(501, 'ERR_NO_ENCODER', 'this node does not transcode: ask for the bytes without "format"')
        if (!(await opts.transcode(ctx, id, rendition))) throw new ApiError(404, 'ERR_TRACK_NOT_FOUND', 'this node has no such track')
        return
      }
      const handle = await resolveWithin(opts.tracks, id, ctx.signal, ctx.req.method === 'GET' ? readerStart(ctx.req.headers.range) : undefined)
      if (!handle) throw new ApiError(404, 'ERR_TRACK_NOT_FOUND', 'this node has no such track')
      try {
        await respond(ctx, id, handle, prefetchBytes, stallTimeoutMs, warn)
      } finally {
        release(handle, (err) => warn('track source failed to close a track', { sha256: id, error: err }))
      }
    },
  }
}

/** handle.close(), not awaited: a slow or stuck close must not hold the response or the server's close. */
function release(handle: TrackHandle, onError: (err: unknown) => void): void {
  Promise.resolve()
    .then(() => handle.close?.())
    .catch(onError)
}

/**
 * Where a GET will start reading, as far as the Range header says before the
 * track's size is known (a hint for sources that fetch: 0 without a Range;
 * none for a suffix range, which needs the size).
 */
function readerStart(header: string | undefined): number | undefined {
  if (header === undefined) return 0
  const m = /^\s*bytes\s*=\s*(\d{1,15})\s*-/i.exec(header)
  return m ? Number(m[1]) : undefined
}

/** source.resolve(), given up when the request aborts; a handle that arrives later is closed. */
function resolveWithin(source: TrackSource, id: string, signal: AbortSignal, from: number | undefined): Promise<TrackHandle | null> {
  const pending = source.resolve(id, signal, from)
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason)
      pending.then((h) => h && release(h, () => {}), () => {})
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(
      (h) => (signal.removeEventListener('abort', onAbort), resolve(h)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    )
  })
}

/** Whether an If-None-Match list names `etag` (weak comparison, RFC 9110 §13.1.2). */
function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '')
    return tag === '*' || tag === etag
  })
}

async function respond(
  ctx: RequestContext,
  id: string,
  handle: TrackHandle,
  prefetchBytes: number,
  stallTimeoutMs: number,
  warn: NonNullable<StreamRouteOptions['warn']>,
): Promise<void> {
  const { req, res } = ctx
  const size = handle.size
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`the track source gave a bad size (${size}) for ${id}`)
  const etag = `"${id}"`
  const headers: Record<string, string | number> = {
    ...COMMON_HEADERS,
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Cache-Control': CACHE_CONTROL,
  }
  if (noneMatchHits(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  // If-Range (strong comparison): a Range is honoured only for this very ETag; a date or another tag means "send it all".
  const ifRange = req.headersDistinct['if-range']
  const range = ifRange !== undefined && (ifRange.length !== 1 || ifRange[0]!.trim() !== etag) ? { type: 'none' as const } : parseRange(req.headers.range, size)
  if (range.type === 'unsatisfiable') {
    throw new ApiError(416, 'ERR_RANGE_NOT_SATISFIABLE', `no requested range is within the track's ${size} bytes`, {
      'Accept-Ranges': 'bytes',
      'Content-Range': contentRange(size),
    })
  }
  const partial = range.type === 'single'
  const start = partial ? range.start : 0
  const end = partial ? range.end : size - 1
  const length = size === 0 ? 0 : end - start + 1
  headers['Content-Type'] = handle.mimeType ?? FALLBACK_MIME_TYPE
  headers['Content-Length'] = length
  if (partial) headers['Content-Range'] = contentRange(size, range)
  const status = partial ? 206 : 200
  if (req.method === 'HEAD' || length === 0) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  try {
    handle.prefetch?.(start, Math.min(size - 1, start + prefetchBytes - 1))
  } catch (err) {
    warn('track source prefetch threw', { sha256: id, error: err })
  }
  await pipeRange(res, handle, start, end, ctx.signal, stallTimeoutMs, () => res.writeHead(status, headers))
}

/**
 * Copies bytes start..end from the handle to the response with backpressure.
 * The read gets its own signal: aborted when the request's aborts (client
 * gone, server closing), when the source stalls, or when the copy fails.
 */
async function pipeRange(
  res: ServerResponse,
  handle: TrackHandle,
  start: number,
  end: number,
  requestSignal: AbortSignal,
  stallTimeoutMs: number,
  writeHead: () => void,
): Promise<void> {
  const read = new AbortController()
  const forward = () => read.abort(requestSignal.reason)
  if (requestSignal.aborted) forward()
  else requestSignal.addEventListener('abort', forward, { once: true })
  const expected = end - start + 1
  let sent = 0
  let it: AsyncIterator<unknown> | undefined
  let finished = false
  try {
    read.signal.throwIfAborted()
    it = (handle.read(start, end, read.signal) as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    while (sent < expected) {
      const next = await nextWithin(it, read, stallTimeoutMs)
      if (next.done) {
        finished = true
        throw new TrackUnavailableError(`the track source ended after ${sent} of ${expected} bytes`)
      }
      const chunk = next.value
      if (!(chunk instanceof Uint8Array)) throw new TypeError('the track source yielded something other than bytes')
      const part = chunk.byteLength > expected - sent ? chunk.subarray(0, expected - sent) : chunk
      if (part.byteLength === 0) continue
      if (!res.headersSent) writeHead()
      sent += part.byteLength
      if (!res.write(part)) await once(res, 'drain', { signal: read.signal })
    }
    res.end()
  } finally {
    requestSignal.removeEventListener('abort', forward)
    if (sent < expected) read.abort(new TrackUnavailableError('the response ended before the read'))
    // Let the source release what it holds (harmless after it threw); a generator still waiting finishes after its signal.
    if (it && !finished) void it.return?.()?.catch(() => {})
  }
}

/** it.next(), rejected when `read` aborts or when nothing comes for `ms` (which aborts `read`). */
function nextWithin(it: AsyncIterator<unknown>, read: AbortController, ms: number): Promise<IteratorResult<unknown>> {
  return new Promise((resolve, reject) => {
    if (read.signal.aborted) return reject(read.signal.reason)
    const timer = setTimeout(() => read.abort(new TrackUnavailableError(`no data from the track source for ${ms} ms`)), ms)
    timer.unref()
    const onAbort = () => {
      clearTimeout(timer)
      reject(read.signal.reason)
    }
    read.signal.addEventListener('abort', onAbort, { once: true })
    const settle = () => {
      clearTimeout(timer)
      read.signal.removeEventListener('abort', onAbort)
    }
    it.next().then(
      (r) => (settle(), resolve(r)),
      (e) => (settle(), reject(e)),
    )
  })
}
