// The stream's contract with its TrackSource, with sources that record what
// the server does to them: cancellation on disconnect, stalls, failures
// before and after the first byte, too many or too few bytes.
import test from 'ava'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import type { Library } from '../../src/library/index.ts'
import {
  createApiServer,
  firstTrackSource,
  TrackUnavailableError,
  type ApiServerOptions,
  type TrackHandle,
  type TrackSource,
} from '../../src/player/index.ts'
import { send, TOKEN } from './fixture.ts'
import { until } from '../helpers/until.ts'

const ID = 'ab'.repeat(32)
const SIZE = 10 * 1024 * 1024

/** A Library that holds nothing (these tests are about the stream). */
const emptyLibrary: Library = {
  scan: async () => {
    throw new Error('not here')
  },
  list: async () => [],
  track: async () => undefined,
  stats: async () => ({ tracks: 0, missing: 0, bytes: 0, roots: [] }),
  close: async () => {},
}

/** Byte i of the fake track. */
const byteAt = (i: number) => (i * 7 + 3) & 0xff
const bytesOf = (start: number, end: number) => Buffer.from(Array.from({ length: end - start + 1 }, (_, k) => byteAt(start + k)))

interface Recorder {
  reads: Array<{ start: number; end: number }>
  prefetches: Array<[number, number]>
  aborted: Promise<unknown>
  closed: Promise<void>
}

/** A source of one track whose read is `body`; records reads, prefetches, the abort and the close. */
function recordingSource(body: (start: number, end: number, signal: AbortSignal) => AsyncIterable<Uint8Array> | Readable, size = SIZE) {
  let onAbort!: (reason: unknown) => void
  let onClose!: () => void
  const rec: Recorder = {
    reads: [],
    prefetches: [],
    aborted: new Promise((r) => (onAbort = r)),
    closed: new Promise((r) => (onClose = r)),
  }
  const source: TrackSource = {
    async resolve(sha256) {
      if (sha256 !== ID) return null
      const handle: TrackHandle = {
        size,
        mimeType: 'audio/flac',
        read(start, end, signal) {
          rec.reads.push({ start, end })
          signal.addEventListener('abort', () => onAbort(signal.reason), { once: true })
          return body(start, end, signal)
        },
        prefetch: (start, end) => void rec.prefetches.push([start, end]),
        close: () => onClose(),
      }
      return handle
    },
  }
  return { source, rec }
}

/** Yields the requested bytes in 64 KiB chunks, slowly enough that a client can hang up mid-way. */
async function* slowBytes(start: number, end: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for (let at = start; at <= end; at += 65536) {
    signal.throwIfAborted()
    await new Promise((r) => setTimeout(r, 5))
    yield bytesOf(at, Math.min(end, at + 65535))
  }
}

/** Waits until the abort signal fires (rejecting the pending wait), as a swarm read waiting for a piece would. */
function waitForAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

async function serve(t: import('ava').ExecutionContext, tracks: TrackSource, extra: Partial<ApiServerOptions> = {}) {
  const server = createApiServer({ library: emptyLibrary, tracks, token: TOKEN, ...extra })
  const { port } = await server.listen(0)
  t.teardown(() => server.close())
  return { server, port }
}

/** Streams /stream/ID and hangs up after `after` body bytes. */
function hangUpAfter(port: number, after: number, headers: Record<string, string> = {}): Promise<{ status: number; got: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/stream/${ID}`, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      let got = 0
      res.on('data', (c: Buffer) => {
        got += c.length
        if (got >= after) {
          req.destroy()
          resolve({ status: res.statusCode ?? 0, got })
        }
      })
      res.on('error', () => {})
    })
    req.on('error', () => {})
    req.on('close', () => resolve({ status: -1, got: 0 }))
    req.end()
    setTimeout(() => reject(new Error('no response')), 5000).unref()
  })
}

/** The body as far as it came, and whether it was complete. */
function fetchAll(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; complete: boolean; length?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/stream/${ID}`, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = []
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete, length: res.headers['content-length'] })
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', done)
      res.on('error', done)
      res.on('aborted', done)
    })
    req.on('error', reject)
    req.end()
  })
}

test('a client that hangs up mid-stream cancels the read and the track is closed', async (t) => {
  const { source, rec } = recordingSource(slowBytes)
  const { port } = await serve(t, source)
  const r = await hangUpAfter(port, 200_000, { range: 'bytes=1000-' })
  t.is(r.status, 206)
  const reason = await rec.aborted
  t.truthy(reason)
  await rec.closed
  t.deepEqual(rec.reads, [{ start: 1000, end: SIZE - 1 }])
})

test('a read waiting for data (a piece not yet arrived) is cancelled when the client leaves', async (t) => {
  const { source, rec } = recordingSource(async function* (start, _end, signal) {
    yield bytesOf(start, start + 99)
    await waitForAbort(signal) // never more data
  })
  const { port } = await serve(t, source)
  const r = await hangUpAfter(port, 100)
  t.is(r.status, 200)
  t.truthy(await rec.aborted) // the waiting read saw its signal abort
  await t.notThrowsAsync(rec.closed)
})

test('a seek is a new request: the old read is cancelled, the new one starts where asked', async (t) => {
  const { source, rec } = recordingSource(slowBytes)
  const { port } = await serve(t, source)
  await hangUpAfter(port, 65536, { range: 'bytes=0-' })
  await rec.aborted
  const r = await fetchAll(port, { range: 'bytes=5000000-5000099' })
  t.is(r.status, 206)
  t.true(r.body.equals(bytesOf(5_000_000, 5_000_099)))
  t.deepEqual(rec.reads.at(-1), { start: 5_000_000, end: 5_000_099 })
})

test('prefetch is told the window from the read start', async (t) => {
  const { source, rec } = recordingSource(slowBytes)
  const { port } = await serve(t, source, { prefetchBytes: 1000 })
  await fetchAll(port, { range: 'bytes=100-199' })
  await fetchAll(port, { range: `bytes=${SIZE - 10}-` })
  t.deepEqual(rec.prefetches, [
    [100, 1099],
    [SIZE - 10, SIZE - 1],
  ])
})

test('a source that yields nothing is cancelled after the stall timeout: 503 before any byte', async (t) => {
  const { source, rec } = recordingSource(async function* (_s, _e, signal) {
    await waitForAbort(signal)
  })
  const { port } = await serve(t, source, { stallTimeoutMs: 200 })
  const r = await send(port, { path: `/stream/${ID}` })
  t.is(r.status, 503)
  t.is(r.json().error.code, 'ERR_TRACK_UNAVAILABLE')
  t.true((await rec.aborted) instanceof TrackUnavailableError)
})

test('a source that ignores its signal still cannot hold the response once the client left', async (t) => {
  const { source, rec } = recordingSource(async function* () {
    await new Promise(() => {}) // deaf and never done
  })
  const { server, port } = await serve(t, source, { stallTimeoutMs: 60_000 })
  const req = request({ host: '127.0.0.1', port, path: `/stream/${ID}`, headers: { host: `127.0.0.1:${port}` }, agent: false })
  req.on('error', () => {})
  req.end()
  await new Promise((r) => setTimeout(r, 100))
  req.destroy()
  t.truthy(await rec.aborted)
  await rec.closed
  await t.notThrowsAsync(server.close()) // returns: nothing waits on the deaf source
})

test('TrackUnavailableError before the first byte is a 503 JSON error', async (t) => {
  const { source } = recordingSource(async function* () {
    throw new TrackUnavailableError('no peer holds it')
  })
  const { port } = await serve(t, source)
  const r = await send(port, { path: `/stream/${ID}` })
  t.is(r.status, 503)
  t.deepEqual(r.json(), { error: { code: 'ERR_TRACK_UNAVAILABLE', message: 'no peer holds it' } })
})

test('a source that fails after the first byte cuts the connection (the length cannot be honoured)', async (t) => {
  const logged: string[] = []
  const { source } = recordingSource(async function* (start) {
    yield bytesOf(start, start + 9999)
    throw new TrackUnavailableError('peer left')
  })
  const { port } = await serve(t, source, { log: (_level, message) => logged.push(message) })
  const r = await fetchAll(port)
  t.is(r.status, 200)
  t.is(r.length, String(SIZE))
  t.false(r.complete)
  t.true(r.body.equals(bytesOf(0, 9999)), 'what was sent before the failure arrives, then the cut')
  t.true(logged.length > 0)
})

test('a source that ends early is cut too, and one that gives too much is trimmed to the range', async (t) => {
  const short = recordingSource(async function* (start) {
    yield bytesOf(start, start + 9)
  })
  const s = await serve(t, short.source)
  const cut = await fetchAll(s.port, { range: 'bytes=0-99' })
  t.false(cut.complete)

  const long = recordingSource(async function* (start) {
    yield bytesOf(start, start + 999)
  })
  const l = await serve(t, long.source)
  const trimmed = await fetchAll(l.port, { range: 'bytes=0-99' })
  t.true(trimmed.complete)
  t.true(trimmed.body.equals(bytesOf(0, 99)))
})

test('a source may return a Readable; it is destroyed when the client leaves', async (t) => {
  const streams: Readable[] = []
  const { source, rec } = recordingSource((start, end, signal) => {
    const r = Readable.from(slowBytes(start, end, signal), { objectMode: false })
    streams.push(r)
    return r
  })
  const { port } = await serve(t, source)
  const ok = await fetchAll(port, { range: 'bytes=0-200000' })
  t.true(ok.body.equals(bytesOf(0, 200000)))
  await hangUpAfter(port, 100_000)
  await rec.aborted
  const last = streams.at(-1)!
  if (!last.destroyed) await new Promise((r) => last.once('close', r))
  t.true(last.destroyed)
})

test('closing the server ends running streams and aborts their reads', async (t) => {
  const { source, rec } = recordingSource(async function* (start, _end, signal) {
    yield bytesOf(start, start + 99)
    await waitForAbort(signal)
  })
  const { server, port } = await serve(t, source)
  const pending = fetchAll(port)
  // Closed once the stream runs (its read started), however long the request took to arrive.
  await until(async () => (rec.reads.length > 0 ? true : undefined), 30_000, 5)
  await server.close()
  await rec.aborted
  t.false((await pending).complete)
})

test('firstTrackSource serves from the first source that knows the track', async (t) => {
  const a: TrackSource = { resolve: async () => null }
  const { source } = recordingSource(slowBytes, 100)
  const both = firstTrackSource([a, source])
  t.is((await both.resolve(ID))?.size, 100)
  t.is(await both.resolve('cd'.repeat(32)), null)
})

test('a client that leaves while the track is being resolved: the late handle is still closed', async (t) => {
  let closed!: (at: number) => void
  const wasClosed = new Promise<number>((r) => (closed = r))
  let resolved!: () => void
  const wasResolved = new Promise<void>((r) => (resolved = r))
  let entered!: () => void
  const resolving = new Promise<void>((r) => (entered = r))
  let left!: () => void
  const clientLeft = new Promise<void>((r) => (left = r))
  // The resolve returns only after the client has gone: the handle comes back to nobody.
  const slow: TrackSource = {
    async resolve() {
      entered()
      await clientLeft
      resolved()
      return { size: 10, read: () => slowBytes(0, 9, new AbortController().signal), close: () => closed(Date.now()) }
    },
  }
  const { port } = await serve(t, slow)
  const req = request({ host: '127.0.0.1', port, path: `/stream/${ID}`, headers: { host: `127.0.0.1:${port}` }, agent: false })
  req.on('error', () => {})
  req.on('close', () => setTimeout(left, 50))
  req.end()
  await resolving
  req.destroy()
  await wasResolved
  // closed once resolve returns, though nobody is left to read it (else this times out)
  await t.notThrowsAsync(wasClosed)
})
