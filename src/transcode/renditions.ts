// A transcoded stream over HTTP: a cached rendition is served as a file
// (Range honoured); otherwise ffmpeg is fed the track's bytes (from this
// device or through the swarm) and its output goes to the client as it comes
// (no Content-Length), and, for a stream from the start, into the cache too:
// kept only when ffmpeg finished cleanly, so a cut stream leaves nothing.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { contentRange, parseRange, type TrackHandle } from '../player/index.ts'
import { TranscodeError } from './errors.ts'
import type { Encoder } from './ffmpeg.ts'
import { FORMATS, targetKbps, type TargetFormat } from './formats.ts'
import type { RenditionCache, RenditionKey } from './rendition-cache.ts'

export interface RenditionsOptions {
  encoder: Encoder
  cache: RenditionCache
  warn?: (message: string, fields: Record<string, unknown>) => void
}

export interface RenditionRequest {
  format: TargetFormat
  /** kbps cap from the client (Subsonic maxBitRate); 0 or undefined: the format's default. */
  maxKbps?: number
  /** seconds to start at */
  offset?: number
}

const HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' }

export class Renditions {
  constructor(private readonly opts: RenditionsOptions) {}

  /**
   * Answers `req` with the rendition. Throws (before any header is sent)
   * TranscodeError ERR_NO_ENCODER when no encoder runs here, and null from
   * `open` is returned as false (the caller answers "not found").
   */
  async serve(
    req: IncomingMessage,
    res: ServerResponse,
    signal: AbortSignal,
    sha256: string,
    open: () => Promise<TrackHandle | null>,
    r: RenditionRequest,
  ): Promise<boolean> {
    const kbps = targetKbps(r.format, r.maxKbps)
    const key: RenditionKey = { sha256, format: r.format, kbps, encoder: await this.opts.encoder.id() }
    const offset = r.offset && r.offset > 0 ? r.offset : 0
    const mimeType = FORMATS[r.format].mimeType
    if (offset === 0) {
      const cached = await this.opts.cache.get(key)
      if (cached) {
        await serveFile(req, res, cached.path, cached.size, mimeType)
        return true
      }
    }
    const handle = await open()
    if (!handle) return false
    try {
      await this.transcode(req, res, signal, handle, key, offset, mimeType)
    } finally {
      Promise.resolve().then(() => handle.close?.()).catch(() => {})
    }
    return true
  }

  private async transcode(req: IncomingMessage, res: ServerResponse, signal: AbortSignal, handle: TrackHandle, key: RenditionKey, offset: number, mimeType: string): Promise<void> {
    const child = await this.opts.encoder.start({ format: key.format as TargetFormat, kbps: key.kbps, ...(offset ? { offset } : {}) })
    const stopChild = () => child.kill('SIGKILL')
    signal.addEventListener('abort', stopChild, { once: true })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)))
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    // Feed the source; an early exit of ffmpeg (EPIPE) or an abort ends the feed.
    const feedAbort = new AbortController()
    const onAbort = () => feedAbort.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    child.stdin.on('error', () => feedAbort.abort())
    // A source that fails mid-track ends ffmpeg's input early: its output is then short, and is neither finished nor kept.
    let feedFailed: unknown
    const fed = (async () => {
      if (handle.size === 0) return child.stdin.end()
      handle.prefetch?.(0, handle.size - 1)
      const it = handle.read(0, handle.size - 1, feedAbort.signal) as AsyncIterable<Uint8Array>
      for await (const chunk of it) {
        if (feedAbort.signal.aborted) break
        if (!child.stdin.write(chunk)) await once(child.stdin, 'drain', { signal: feedAbort.signal })
      }
      child.stdin.end()
    })().catch((err: unknown) => {
      if (!feedAbort.signal.aborted) {
        feedFailed = err
        this.opts.warn?.('transcode input failed', { sha256: key.sha256, error: err })
      }
      child.stdin.destroy()
    })

    const keep = offset === 0
    let tmp: string | undefined
    let file: WriteStream | undefined
    if (keep) {
      tmp = await this.opts.cache.tempPath(key)
      file = createWriteStream(tmp, { mode: 0o600 })
      file.on('error', () => (file = undefined))
    }
    let sent = 0
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        if (!res.headersSent) res.writeHead(200, { ...HEADERS, 'Content-Type': mimeType, 'Accept-Ranges': 'none' })
        file?.write(chunk)
        sent += chunk.length
        if (req.method !== 'HEAD' && !res.write(chunk)) await once(res, 'drain', { signal })
      }
      const code = await exited
      await fed
      if (feedFailed) throw new TranscodeError('ERR_TRANSCODE', `the track's bytes stopped coming: ${(feedFailed as Error).message}`)
      if (code !== 0 || sent === 0) {
        throw new TranscodeError('ERR_TRANSCODE', `ffmpeg failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`)
      }
      if (file && tmp) {
        file.end()
        await once(file, 'close')
        await this.opts.cache.commit(tmp, key)
        tmp = undefined
      }
      res.end()
    } catch (err) {
      stopChild()
      if (res.headersSent && !signal.aborted) res.destroy()
      throw err
    } finally {
      signal.removeEventListener('abort', stopChild)
      signal.removeEventListener('abort', onAbort)
      feedAbort.abort()
      if (tmp) {
        file?.destroy()
        await this.opts.cache.discard(tmp)
      }
    }
  }
}

/** A cached rendition: the whole file, or one Range of it. */
async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, size: number, mimeType: string): Promise<void> {
  const range = parseRange(req.headers.range, size)
  const headers: Record<string, string | number> = { ...HEADERS, 'Content-Type': mimeType, 'Accept-Ranges': 'bytes' }
  if (range.type === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': contentRange(size) })
    return void res.end()
  }
  const start = range.type === 'single' ? range.start : 0
  const end = range.type === 'single' ? range.end : size - 1
  headers['Content-Length'] = size === 0 ? 0 : end - start + 1
  if (range.type === 'single') headers['Content-Range'] = contentRange(size, range)
  res.writeHead(range.type === 'single' ? 206 : 200, headers)
  if (req.method === 'HEAD' || size === 0) return void res.end()
  await pipeline(createReadStream(path, { start, end }), res).catch(() => res.destroy())
}
