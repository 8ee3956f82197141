// Server lifecycle and options: where it may listen, idempotent close, the token file.
import test from 'ava'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Library } from '../../src/library/index.ts'
import {
  apiTokenPath,
  createApiServer,
  loadOrCreateApiToken,
  LocalFileTrackSource,
  PlayerError,
  readApiToken,
  type TrackSource,
} from '../../src/player/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { auth, send, TOKEN } from './fixture.ts'

const library = {
  track: async () => undefined,
  list: async () => [],
  stats: async () => ({ tracks: 0, missing: 0, bytes: 0, roots: [] }),
} as unknown as Library
const tracks: TrackSource = { resolve: async () => null }

test('url before listen, listening twice, listening after close: PlayerErrors with codes', async (t) => {
  const server = createApiServer({ library, tracks, token: TOKEN })
  t.is(t.throws(() => server.url, { instanceOf: PlayerError }).code, 'ERR_NOT_LISTENING')
  const { port, host } = await server.listen(0)
  t.is(host, '127.0.0.1')
  t.is(server.url, `http://127.0.0.1:${port}`)
  t.is((await t.throwsAsync(server.listen(0), { instanceOf: PlayerError })).code, 'ERR_ALREADY_LISTENING')
  await Promise.all([server.close(), server.close()])
  await server.close()
  t.is((await t.throwsAsync(server.listen(0), { instanceOf: PlayerError })).code, 'ERR_CLOSED')
  await t.throwsAsync(send(port, { path: '/api/health' }), { code: 'ECONNREFUSED' })
})

test('close before listen is fine', async (t) => {
  const server = createApiServer({ library, tracks, token: TOKEN })
  await t.notThrowsAsync(server.close())
})

test('without remote access only loopback addresses; names must be IPs; bad tokens and ports are refused', async (t) => {
  const server = createApiServer({ library, tracks, token: TOKEN })
  t.teardown(() => server.close())
  for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
    t.is((await t.throwsAsync(server.listen(0, host), { instanceOf: PlayerError })).code, 'ERR_REMOTE_DISABLED', host)
  }
  t.is((await t.throwsAsync(server.listen(0, 'example.com'), { instanceOf: PlayerError })).code, 'ERR_BAD_OPTION')
  t.is((await t.throwsAsync(server.listen(70000), { instanceOf: PlayerError })).code, 'ERR_BAD_OPTION')
  t.is(t.throws(() => createApiServer({ library, tracks, token: 'short' }), { instanceOf: PlayerError }).code, 'ERR_BAD_OPTION')
  t.is(t.throws(() => createApiServer({ library, tracks, token: `${TOKEN} x` }), { instanceOf: PlayerError }).code, 'ERR_BAD_OPTION')
  const bound = await server.listen(0, 'localhost') // means 127.0.0.1
  t.is(bound.host, '127.0.0.1')
})

test('a port in use rejects listen and the server can try another', async (t) => {
  const a = createApiServer({ library, tracks, token: TOKEN })
  const b = createApiServer({ library, tracks, token: TOKEN })
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const { port } = await a.listen(0)
  await t.throwsAsync(b.listen(port), { code: 'EADDRINUSE' })
  const other = await b.listen(0)
  t.not(other.port, port)
})

// Tests bind loopback only; the wildcard case (interface addresses) is covered in guard.test.ts.
test('remote access answers to configured names, with the token', async (t) => {
  const server = createApiServer({ library, tracks, token: TOKEN, allowRemote: true, hostNames: ['dj-laptop.local'] })
  t.teardown(() => server.close())
  const { port } = await server.listen(0, '127.0.0.1')
  t.is((await send(port, { path: '/api/health', headers: { host: `dj-laptop.local:${port}`, ...auth() } })).status, 200)
  t.is((await send(port, { path: '/api/health', headers: { host: `dj-laptop.local:${port}` } })).status, 401)
  t.is((await send(port, { path: '/api/health', headers: { host: `other.local:${port}`, ...auth() } })).status, 403)
})

test('IPv6 loopback', async (t) => {
  const server = createApiServer({ library, tracks, token: TOKEN })
  t.teardown(() => server.close())
  try {
    await server.listen(0, '::1')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return t.pass('no IPv6 here')
    throw err
  }
  t.regex(server.url, /^http:\/\/\[::1\]:\d+$/)
})

test('the API token: created once as 64 hex digits, mode 0600, then reused', async (t) => {
  const home = join(await tempDir(t), 'home')
  t.is(await readApiToken(home), undefined)
  const token = await loadOrCreateApiToken(home)
  t.regex(token, /^[0-9a-f]{64}$/)
  t.is((await stat(apiTokenPath(home))).mode & 0o777, 0o600)
  t.is(await loadOrCreateApiToken(home), token)
  t.is((await readFile(apiTokenPath(home), 'utf8')).trim(), token)
  // Racing creators end with one token.
  const other = join(await tempDir(t), 'home')
  const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateApiToken(other)))
  t.is(new Set(all).size, 1)
})

test('a token file readable by others is narrowed; a damaged one is refused', async (t) => {
  const home = await tempDir(t)
  const token = await loadOrCreateApiToken(home)
  await chmod(apiTokenPath(home), 0o644)
  t.is(await loadOrCreateApiToken(home), token)
  t.is((await stat(apiTokenPath(home))).mode & 0o777, 0o600)
  await writeFile(apiTokenPath(home), 'not a token\n')
  t.is((await t.throwsAsync(loadOrCreateApiToken(home), { instanceOf: PlayerError })).code, 'ERR_BAD_TOKEN_FILE')
})

test('LocalFileTrackSource reads exact ranges from the file and refuses ranges outside it', async (t) => {
  const dir = await tempDir(t)
  const path = await writeTrack(join(dir, 'a.wav'), { title: 'A' }, 3, 1)
  const bytes = await readFile(path)
  const record = { sha256: 'e'.repeat(64), size: bytes.length, format: 'wav', paths: ['/nowhere/else.wav', path] }
  const source = new LocalFileTrackSource({ track: async (id: string) => (id === record.sha256 ? (record as never) : undefined) }, { chunkSize: 1000 })
  t.is(await source.resolve('f'.repeat(64)), null)
  t.is(await source.resolve('../etc/passwd'), null)
  const handle = (await source.resolve(record.sha256))!
  t.is(handle.size, bytes.length)
  t.is(handle.mimeType, 'audio/wav')
  const chunks: Uint8Array[] = []
  for await (const c of handle.read(10, 4009, new AbortController().signal) as AsyncIterable<Uint8Array>) chunks.push(c)
  t.deepEqual(chunks.map((c) => c.length), [1000, 1000, 1000, 1000])
  t.true(Buffer.concat(chunks).equals(bytes.subarray(10, 4010)))
  const ac = new AbortController()
  ac.abort()
  await t.throwsAsync(async () => {
    for await (const _ of handle.read(0, 10, ac.signal) as AsyncIterable<Uint8Array>) void _
  }, { any: true, name: 'AbortError' })
  await t.throwsAsync(async () => {
    for await (const _ of handle.read(0, bytes.length, new AbortController().signal) as AsyncIterable<Uint8Array>) void _
  }, { instanceOf: RangeError })
  await handle.close?.()
  await handle.close?.()
})

test('a scan runs one at a time and stops when its client hangs up', async (t) => {
  let signalOfScan: AbortSignal | undefined
  let started!: () => void
  const scanStarted = new Promise<void>((r) => (started = r))
  const scanning = {
    ...library,
    scan: (_roots: string[], opts: { signal?: AbortSignal } = {}) =>
      new Promise((_, reject) => {
        signalOfScan = opts.signal
        started()
        opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason), { once: true })
      }),
  } as unknown as Library
  const server = createApiServer({ library: scanning, tracks, token: TOKEN })
  t.teardown(() => server.close())
  const { port } = await server.listen(0)
  const { request } = await import('node:http')
  const body = JSON.stringify({ roots: ['/music'] })
  const first = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/scan', agent: false, headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', ...auth() } })
  first.on('error', () => {})
  first.end(body)
  await scanStarted
  const second = await send(port, { method: 'POST', path: '/api/scan', headers: { 'content-type': 'application/json', ...auth() }, body })
  t.is(second.status, 409)
  t.is(second.json().error.code, 'ERR_CONFLICT')
  first.destroy()
  const signal = signalOfScan!
  await new Promise((r) => (signal.aborted ? r(null) : signal.addEventListener('abort', r, { once: true })))
  t.true(signal.aborted)
})
