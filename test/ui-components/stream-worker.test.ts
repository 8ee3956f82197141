// The worker's /stream/ answer (src/ui/sw/stream.ts) and the page's side
// (servePlayback) on Node's Request/Response/MessageChannel, talking
// as in a browser but with a track whose bytes arrive when the test says:
// the Range rules, a body streamed chunk by chunk (its first bytes before the
// rest exist), a cancelled body ending the page's wait, and the node taking
// over when no page serves the track or a page never answers.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { fromPageUrl, parseRange, rangeHeaders, STREAM_OPEN, streamTrack } from '../../src/ui/logic/index.ts'
import { streamResponse, type StreamClient, type StreamDeps } from '../../src/ui/sw/stream.ts'
import { servePlayback, type PlaybackTrack, type WorkerContainer } from '../../src/browser/index.ts'
import { until } from '../helpers/until.ts'

test('Range: one range of bytes, suffixes, open ends; several ranges get the whole body; the rest is unsatisfiable', (t) => {
  t.deepEqual(parseRange(null, 100), { kind: 'whole' })
  t.deepEqual(parseRange('bytes=0-9', 100), { kind: 'part', start: 0, end: 9 })
  t.deepEqual(parseRange('bytes=90-', 100), { kind: 'part', start: 90, end: 99 })
  t.deepEqual(parseRange('bytes=90-1000', 100), { kind: 'part', start: 90, end: 99 })
  t.deepEqual(parseRange('bytes=-10', 100), { kind: 'part', start: 90, end: 99 })
  t.deepEqual(parseRange('bytes=-1000', 100), { kind: 'part', start: 0, end: 99 })
  t.deepEqual(parseRange('BYTES = 5-5', 100), { kind: 'part', start: 5, end: 5 })
  t.deepEqual(parseRange('bytes=0-1, 5-9', 100), { kind: 'whole' })
  for (const bad of ['bytes=100-', 'bytes=100-200', 'bytes=9-5', 'bytes=-0', 'bytes=-', 'bytes=x-y', 'items=0-9', '', 'bytes=0-1,x']) {
    t.deepEqual(parseRange(bad, 100), { kind: 'unsatisfiable' }, bad)
  }
  t.deepEqual(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' })
  t.deepEqual(rangeHeaders({ kind: 'part', start: 10, end: 19 }, 100, 'audio/wav'), {
    status: 206, headers: { 'accept-ranges': 'bytes', 'cache-control': 'no-store', 'content-type': 'audio/wav', 'content-length': '10', 'content-range': 'bytes 10-19/100' },
  })
  t.like(rangeHeaders({ kind: 'unsatisfiable' }, 100, 'audio/wav'), { status: 416, headers: { 'content-range': 'bytes */100' } })
  t.like(rangeHeaders({ kind: 'whole' }, 100, 'audio/wav'), { status: 200, headers: { 'content-length': '100' } })
  t.is(streamTrack(`/stream/${'ab'.repeat(32)}`), 'ab'.repeat(32))
  t.is(streamTrack(`/stream/${'AB'.repeat(32)}`), null)
  t.is(streamTrack('/stream/../api/library'), null)
  t.is(fromPageUrl(`/stream/${'ab'.repeat(32)}`), `/stream/${'ab'.repeat(32)}?from=page`)
  t.is(fromPageUrl(`/stream/${'ab'.repeat(32)}?sk=x`), `/stream/${'ab'.repeat(32)}?sk=x&from=page`)
})

/** A page's worker container the test dispatches to, and the client the worker posts to. */
function pagePair(): { container: WorkerContainer; client: StreamClient } {
  const listeners = new Set<(e: MessageEvent) => void>()
  return {
    container: { addEventListener: (_t, l) => void listeners.add(l), removeEventListener: (_t, l) => void listeners.delete(l) },
    client: {
      postMessage(data, transfer) {
        const e = { data, ports: transfer } as unknown as MessageEvent
        for (const l of listeners) l(e)
      },
    },
  }
}

/** A track whose bytes beyond `available` are not there yet; reads wait for them (or abort). */
function slowTrack(data: Buffer) {
  const state = { available: 0, aborted: 0, reads: [] as Array<[number, number]>, wake: () => {} }
  const track: PlaybackTrack = {
    size: data.length,
    mime: 'audio/wav',
    async read(start, end, signal) {
      state.reads.push([start, end])
      while (state.available <= start) {
        if (signal?.aborted) {
          state.aborted++
          throw signal.reason as Error
        }
        await new Promise<void>((r) => {
          state.wake = r
          signal?.addEventListener('abort', () => r(), { once: true })
        })
      }
      return data.subarray(start, Math.min(end, state.available))
    },
    sources: () => ({ laptop: state.available }),
  }
  const give = (n: number) => {
    state.available = n
    state.wake()
  }
  return { track, state, give }
}

const deps = (clients: StreamClient[], over: Partial<StreamDeps> = {}): StreamDeps & { network: string[] } => {
  const network: string[] = []
  return {
    clients: async () => clients, ackMs: 200, headMs: 5_000, chunkBytes: 1000, network,
    fetch: async (r) => {
      network.push(new URL(r.url).pathname)
      return new Response('from the node', { headers: { 'x-from': 'node' } })
    },
    ...over,
  }
}

const SHA = 'ab'.repeat(32)
const req = (range?: string, sha = SHA) => new Request(`http://127.0.0.1/stream/${sha}?sk=k&from=page`, range ? { headers: { range } } : {})

test('a range is streamed chunk by chunk as its bytes arrive, and cancelling the body ends the page\'s wait', async (t) => {
  const data = randomBytes(10_000)
  const { track, state, give } = slowTrack(data)
  const { container, client } = pagePair()
  const server = servePlayback(async (sha) => (sha === SHA ? track : Promise.reject(new Error('not here'))), { container })
  t.teardown(() => server.stop())
  give(5_500)
  const res = await streamResponse(req('bytes=5000-'), deps([client]))!
  t.is(res.status, 206)
  t.is(res.headers.get('content-range'), 'bytes 5000-9999/10000')
  t.is(res.headers.get('content-length'), '5000')
  const reader = res.body!.getReader()
  const first = await reader.read()
  // what was there: the first 500 bytes, not the 1000 of a chunk, and not the whole range
  t.deepEqual(Buffer.from(first.value!), data.subarray(5000, 5500))
  const next = reader.read()
  give(7_000)
  t.deepEqual(Buffer.from((await next).value!), data.subarray(5500, 6500))
  t.deepEqual(state.reads.slice(0, 2), [[5000, 6000], [5500, 6500]])
  // the element seeks away: the page stops waiting for bytes that will not come
  await reader.read() // 6500-7000
  const waiting = reader.read()
  await until(async () => (state.reads.length === 4 ? true : undefined))
  await reader.cancel()
  await waiting.catch(() => {})
  await until(async () => (state.aborted === 1 ? true : undefined))
  t.like(server.streams(), [{ sha256: SHA, open: 0, bytes: 2000, sources: [{ device: 'laptop', name: 'laptop', bytes: 7000, rate: 0 }] }])
})

test('no Range: 200 with the whole body; past the end: 416 and no body', async (t) => {
  const data = randomBytes(2_345)
  const { track, give } = slowTrack(data)
  give(data.length)
  const { container, client } = pagePair()
  const server = servePlayback(async () => track, { container })
  t.teardown(() => server.stop())
  const whole = await streamResponse(req(), deps([client]))!
  t.is(whole.status, 200)
  t.is(whole.headers.get('content-length'), '2345')
  t.is(whole.headers.get('accept-ranges'), 'bytes')
  t.deepEqual(Buffer.from(await whole.arrayBuffer()), data)
  const past = await streamResponse(req('bytes=2345-'), deps([client]))!
  t.is(past.status, 416)
  t.is(past.headers.get('content-range'), 'bytes */2345')
  t.is((await past.arrayBuffer()).byteLength, 0)
})

test('the node answers when the page does not hold the track, and when a page never answers (after ackMs)', async (t) => {
  const { container, client } = pagePair()
  const server = servePlayback(async () => Promise.reject(new Error('not here')), { container })
  t.teardown(() => server.stop())
  const silent: StreamClient = { postMessage: () => {} } // a page without the browser device
  const d = deps([silent, client], { ackMs: 50 })
  const started = Date.now()
  const res = await streamResponse(req('bytes=0-9'), d)!
  t.is(res.headers.get('x-from'), 'node')
  t.is(await res.text(), 'from the node')
  t.deepEqual(d.network, [`/stream/${SHA}`])
  t.true(Date.now() - started < 5_000)
  // not a request for the pages: left to the browser, which goes to the node
  t.is(streamResponse(new Request('http://127.0.0.1/stream/nope?from=page'), d), null)
  t.is(streamResponse(new Request(`http://127.0.0.1/stream/${SHA}?from=page`, { method: 'POST', body: 'x' }), d), null)
  t.is(streamResponse(new Request(`http://127.0.0.1/stream/${SHA}`), d), null, 'a page that is not a browser device: no page is asked')
  t.is(streamResponse(new Request(`http://127.0.0.1/stream/${SHA}?from=node`), d), null)
})

test('a page answers the worker at once (ack), before its track is open', async (t) => {
  const { container, client } = pagePair()
  let open!: (t: PlaybackTrack) => void
  const server = servePlayback(() => new Promise<PlaybackTrack>((r) => (open = r)), { container })
  t.teardown(() => server.stop())
  const answer = streamResponse(req('bytes=0-1'), deps([client], { ackMs: 20 }))!
  await new Promise((r) => setTimeout(r, 100)) // well past ackMs: the ack holds the worker's wait
  const data = randomBytes(10)
  const { track, give } = slowTrack(data)
  give(10)
  open(track)
  const res = await answer
  t.is(res.status, 206)
  t.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(0, 2))
  t.is(STREAM_OPEN, 'djcloud:stream-open')
})

test('the live sources: bytes per device and each one\'s rate over the window, latest track first', async (t) => {
  let clock = 0
  let totals: Record<string, number> = { laptop: 0, nas: 0 }
  const track = (size: number): PlaybackTrack => ({ size, mime: 'audio/wav', read: async () => new Uint8Array(1), sources: () => ({ ...totals }) })
  const { container, client } = pagePair()
  let opened = 0
  const server = servePlayback(async (sha) => (opened++, track(sha === SHA ? 100 : 200)), { container, now: () => clock, rateWindowMs: 3_000 })
  t.teardown(() => server.stop())
  const other = 'cd'.repeat(32)
  for (const sha of [other, SHA]) (await streamResponse(req('bytes=0-0', sha), deps([client]))!).body!.cancel().catch(() => {})
  await until(async () => (server.streams().length === 2 ? true : undefined))
  totals = { laptop: 1_000, nas: 0 }
  t.deepEqual(server.streams().map((s) => s.sha256), [SHA, other])
  clock = 2_000
  totals = { laptop: 5_000, nas: 2_000 }
  t.deepEqual(server.streams()[0]!.sources, [
    { device: 'laptop', name: 'laptop', bytes: 5_000, rate: 2_500 }, // since the first sample, at 0 s with nothing
    { device: 'nas', name: 'nas', bytes: 2_000, rate: 1_000 },
  ])
  clock = 6_000 // every sample is past the window: the rate is since the last one (2 s)
  totals = { laptop: 5_000, nas: 6_000 }
  t.deepEqual(server.streams()[0]!.sources.map((s) => s.rate), [0, 1_000])
  // a track the runtime closed is forgotten, and opened again when asked for
  server.forget(SHA)
  t.deepEqual(server.streams().map((s) => s.sha256), [other])
  ;(await streamResponse(req('bytes=0-0'), deps([client]))!).body!.cancel().catch(() => {})
  await until(async () => (server.streams().length === 2 ? true : undefined))
  t.is(opened, 3)
})
