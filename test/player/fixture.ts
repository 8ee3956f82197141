// A real API server for the player tests: a temp home with a LocalLibrary
// that scanned real (synthesised, tagged) WAV files, served on 127.0.0.1:0.
// Requests go through node:http with Host and Origin set by the test.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { openLibrary, type Library } from '../../src/library/index.ts'
import { createApiServer, LocalFileTrackSource, type ApiServer, type ApiServerOptions } from '../../src/player/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

export const TOKEN = 'a'.repeat(64)

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  json: () => any
}

export interface RequestOptions {
  method?: string
  /** Sent as is (no normalisation by the client). */
  path: string
  /** Host defaults to the server's 127.0.0.1:PORT; pass null to send none. */
  headers?: Record<string, string | string[] | null>
  body?: string | Buffer
}

/** One request on a fresh connection; resolves with the whole response. */
export function send(port: number, opts: RequestOptions): Promise<Reply> {
  const headers: Record<string, string | string[]> = { host: `127.0.0.1:${port}` }
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()]
    else headers[k.toLowerCase()] = v
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers, agent: false, setHost: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) })
      })
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

export interface Fixture {
  home: string
  music: string
  library: Library
  server: ApiServer
  port: number
  /** Track files by name, with their sha256 after the scan. */
  tracks: Array<{ path: string; sha256: string; size: number }>
  send: (opts: RequestOptions) => Promise<Reply>
}

/**
 * Writes `count` WAVs, scans them into a fresh home's library and serves it.
 * Everything is torn down after the test (or after the file's tests, with
 * `t` from test.before, when torn down by `close`).
 */
export async function startFixture(
  t: ExecutionContext,
  opts: { count?: number; seconds?: number; server?: Partial<ApiServerOptions>; host?: string; scan?: boolean } = {},
): Promise<Fixture> {
  const root = await tempDir(t, 'djcloud-player-')
  const home = join(root, 'home')
  const music = join(root, 'music')
  await mkdir(music, { recursive: true })
  const count = opts.count ?? 2
  for (let i = 0; i < count; i++) {
    await writeTrack(join(music, `track-${i}.wav`), { title: `Track ${i}`, artist: `Artist ${i}`, bpm: 120 + i }, i + 1, opts.seconds ?? 2)
  }
  const library = await openLibrary(home)
  if (opts.scan !== false) await library.scan([music])
  const listed = await library.list({ sort: 'title' })
  const tracks = listed.map((r) => ({ path: r.paths[0]!, sha256: r.sha256, size: r.size }))
  const server = createApiServer({ library, tracks: new LocalFileTrackSource(library), token: TOKEN, uiDir: null, ...opts.server })
  const { port } = await server.listen(0, opts.host ?? '127.0.0.1')
  t.teardown(async () => {
    await server.close()
    await library.close()
  })
  return { home, music, library, server, port, tracks, send: (o) => send(port, o) }
}

export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` })
