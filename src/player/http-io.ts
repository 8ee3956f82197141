// Small pieces of HTTP plumbing shared by the handlers: JSON responses, JSON
// errors, bounded JSON bodies, the headers every response carries.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { constants as zlib, createBrotliCompress, createGzip } from 'node:zlib'
import { ApiError } from './errors.ts'

/** Largest JSON request body read (bytes). */
export const JSON_BODY_LIMIT = 1024 * 1024

/** On every response: no MIME sniffing, no embedding by other origins, no Referer leaks. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
}

const JSON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
}

/** JSON bodies smaller than this go out uncompressed: the saving would not pay for the work (bytes). */
export const COMPRESS_MIN_BYTES = 1024

/**
 * The fastest settings: a 20,000-track library (24 MB full, 6 MB compact)
 * is compressed per request, and on a LAN the seconds of CPU that higher
 * levels cost are more than the few hundred kB they save take to send.
 * Measured on the full view: gzip 1 4.0 MB in 0.4 s, gzip 6 3.5 MB in 1.0 s,
 * brotli 1 3.6 MB in 0.3 s, brotli 4 3.2 MB in 2.9 s (2 loaded cores).
 */
const GZIP_LEVEL = 1
const BROTLI_QUALITY = 1

export type ContentCoding = 'br' | 'gzip'

/**
 * The coding to answer with for an Accept-Encoding header (RFC 9110, 12.5.3):
 * br or gzip, whichever has the higher q (br on a tie: smaller and faster), or
 * null for the body as it is. `*` stands for any coding not named; q=0 refuses.
 */
export function negotiateEncoding(header: string | string[] | undefined): ContentCoding | null {
  if (header === undefined) return null
  const q = new Map<string, number>()
  for (const item of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name = '', ...params] = item.split(';').map((s) => s.trim().toLowerCase())
    if (!name) continue
    const qParam = params.find((p) => p.startsWith('q='))
    const value = qParam === undefined ? 1 : Number(qParam.slice(2))
    q.set(name, Number.isFinite(value) ? value : 0)
  }
  const of = (coding: ContentCoding) => q.get(coding) ?? q.get('*') ?? 0
  const br = of('br')
  const gzip = of('gzip')
  if (br <= 0 && gzip <= 0) return null
  return br >= gzip ? 'br' : 'gzip'
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers)
}

/**
 * sendJson for a body already serialised (a cached answer). A body of
 * COMPRESS_MIN_BYTES or more is compressed when the request accepts br or
 * gzip: streamed through zlib (in libuv's thread pool, so a 20,000-track
 * library does not stall the event loop that feeds audio streams), without
 * a Content-Length. JSON answers never take Range, so nothing else depends
 * on the identity length.
 */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  const length = Buffer.byteLength(text)
  const all = { ...COMMON_HEADERS, ...JSON_HEADERS, ...headers, Vary: 'Accept-Encoding' }
  const coding = length >= COMPRESS_MIN_BYTES ? negotiateEncoding(res.req?.headers['accept-encoding']) : null
  if (coding === null) {
    res.writeHead(status, { ...all, 'Content-Length': length })
    return void res.end(text)
  }
  res.writeHead(status, { ...all, 'Content-Encoding': coding })
  if (res.req.method === 'HEAD') return void res.end()
  const z =
    coding === 'br'
      ? createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_SIZE_HINT]: length } })
      : createGzip({ level: GZIP_LEVEL })
  // The headers are out: a failure now can only cut the response.
  z.once('error', () => cutResponse(res))
  res.once('close', () => z.destroy())
  z.pipe(res)
  z.end(text)
}

/**
 * A JSON answer written as it is made by `write` (a large import plan read
 * back from its spool): never one string. Compressed as sendJsonText does
 * when the request accepts it (every such answer is large); no
 * Content-Length. A failure once the headers are out cuts the response.
 */
export async function sendJsonStream(res: ServerResponse, status: number, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  const all = { ...COMMON_HEADERS, ...JSON_HEADERS, Vary: 'Accept-Encoding' }
  const coding = negotiateEncoding(res.req?.headers['accept-encoding'])
  res.writeHead(status, coding ? { ...all, 'Content-Encoding': coding } : all)
  if (res.req?.method === 'HEAD') return void res.end()
  const z = coding === null ? null : coding === 'br' ? createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } }) : createGzip({ level: GZIP_LEVEL })
  if (z) {
    z.once('error', () => cutResponse(res))
    res.once('close', () => z.destroy())
    z.pipe(res)
  }
  try {
    await write(z ?? res)
  } catch (err) {
    z?.destroy()
    cutResponse(res)
    throw err
  }
  ;(z ?? res).end()
}

/** True when the request announces a body (Content-Length > 0 or Transfer-Encoding). */
export function announcesBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
}

/**
 * Answers with `{error: {code, message}}`. When the request's body was not
 * read the connection is closed after the answer, so an unread (maybe huge)
 * body is never drained. After headers went out, only cutting the connection
 * tells the client something broke.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    cutResponse(res)
    return
  }
  const close: Record<string, string> = !req.complete && announcesBody(req) ? { Connection: 'close' } : {}
  sendJson(res, err.status, { error: { code: err.code, message: err.message } }, { ...err.headers, ...close })
}

/** Gives up on a response whose headers went out: what was written is flushed, then the connection is closed short of its Content-Length. */
export function cutResponse(res: ServerResponse): void {
  const socket = res.socket
  if (!socket || socket.destroyed) return void res.destroy()
  socket.end()
  setTimeout(() => socket.destroy(), CUT_GRACE).unref()
}

/** ms a cut connection may take to flush before it is destroyed. */
const CUT_GRACE = 5_000

/** The body as JSON, or undefined when there is none. Needs Content-Type: application/json; at most `limit` bytes. */
export async function readJsonBody(req: IncomingMessage, limit = JSON_BODY_LIMIT): Promise<unknown> {
  if (!announcesBody(req)) return undefined
  const type = req.headers['content-type'] ?? ''
  const [media = '', ...params] = type.split(';').map((s) => s.trim().toLowerCase())
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '')
  if (media !== 'application/json' || (charset !== undefined && charset !== 'utf-8')) {
    throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json (UTF-8)')
  }
  const tooLarge = () => new ApiError(413, 'ERR_PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes`)
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge()
  const body = await readBody(req, limit, tooLarge)
  if (body.length === 0) return undefined
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    throw new ApiError(400, 'ERR_BAD_JSON', 'the body is not valid UTF-8 JSON')
  }
}

/**
 * Collects the body up to `limit` bytes. Past the limit it stops listening
 * without destroying the request, so the 413 can still be answered (and the
 * connection is then closed by sendError).
 */
function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const done = (fn: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
      fn()
    }
    const onData = (chunk: Buffer) => {
      length += chunk.length
      if (length <= limit) return void chunks.push(chunk)
      req.pause()
      done(() => reject(tooLarge()))
    }
    const onEnd = () => done(() => resolve(Buffer.concat(chunks)))
    const onError = (err: Error) => done(() => reject(err))
    const onClose = () => done(() => reject(new ApiError(400, 'ERR_BAD_REQUEST', 'the request ended before its body')))
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}
