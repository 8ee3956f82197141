// The DJ's other software over the local API, for the web UI: an uploaded
// rekordbox XML / Traktor NML imported (dry run or applied) and the library
// exported as one. Both go through the node's own API, as `djcloud import`
// and `djcloud export` do, so every edit is checked, stored and published
// the same way whoever makes it (docs/djimport.md, docs/djexport.md).
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { DjFormatError, readRekordbox, readTraktor, type DjFormat, type DjLibrary, type DjTrack } from '../djformats/index.ts'
import { httpNodeAccess, importLibraryInto, spoolTrackPlans, writeJsonWithList, type ApiCall } from '../djimport/index.ts'
import { collectExport, exportChunks, ExportError } from '../djexport/index.ts'
import { cachePaths } from '../swarm/index.ts'
import { ApiError, sendJsonStream, type Route } from '../player/index.ts'

/** An uploaded collection: 20,000 tracks with 8 cues each is about 35 MB of NML. */
export const DJ_UPLOAD_LIMIT = 256 * 1024 * 1024 // bytes

export interface DjRoutesOptions {
  home: string
  /** Calls this node's own API with its token. */
  call: ApiCall
}

const FORMATS: readonly DjFormat[] = ['rekordbox', 'traktor']

function formatOf(raw: string | undefined): DjFormat {
  if (!(FORMATS as readonly string[]).includes(raw ?? '')) throw new ApiError(404, 'ERR_NOT_FOUND', `no such format "${String(raw).slice(0, 32)}" (rekordbox or traktor)`)
  return raw as DjFormat
}

/** The request body as chunks, refused past the limit (the reader streams it; nothing is kept but the model). */
async function* bodyChunks(req: IncomingMessage, limit: number): AsyncGenerator<Uint8Array> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new ApiError(413, 'ERR_PAYLOAD_TOO_LARGE', `the file is larger than ${limit} bytes`)
  let n = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length
    if (n > limit) throw new ApiError(413, 'ERR_PAYLOAD_TOO_LARGE', `the file is larger than ${limit} bytes`)
    yield chunk
  }
}

const flag = (v: string | null) => v === '1' || v === 'true' || v === ''

export function djRoutes({ home, call }: DjRoutesOptions): Route[] {
  // One import at a time: two at once would plan against the same state.
  let importing = false
  return [
    {
      methods: ['POST'],
      path: '/api/import/:format',
      longRunning: true,
      handle: async ({ params, query, req, res }) => {
        const format = formatOf(params.format)
        for (const k of query.keys()) if (k !== 'dryRun') throw new ApiError(400, 'ERR_BAD_PARAM', `unknown parameter "${k.slice(0, 32)}"`)
        const dryRun = query.has('dryRun') && flag(query.get('dryRun'))
        if (importing) throw new ApiError(409, 'ERR_CONFLICT', 'an import is running')
        importing = true
        try {
          // The tracks' plans spooled to a temporary file as they are made and the answer written from it, as
          // `djcloud import` does (docs/djimport.md): a 20,000-track plan is neither held nor one JSON string here.
          const tracks = spoolTrackPlans(tmpdir())
          try {
            // The upload is read as the import goes (each entry matched and planned as it is read); nothing is written before all of it is read.
            // The file's paths are matched against this machine's files, as `djcloud import` does.
            let lib: DjLibrary | undefined
            let result
            try {
              const chunks = bodyChunks(req, DJ_UPLOAD_LIMIT)
              const read = (onTrack: (t: DjTrack) => void | Promise<void>) => (format === 'rekordbox' ? readRekordbox(chunks, { onTrack }) : readTraktor(chunks, { onTrack }))
              result = await importLibraryInto({ format, read: async (onTrack) => (lib = await read(onTrack)) }, httpNodeAccess(call), { exists: existsSync, dryRun }, tracks)
            } catch (err) {
              if (err instanceof DjFormatError) throw new ApiError(400, 'ERR_BAD_PARAM', `${err.message} (${err.code})`)
              throw err
            }
            if (!lib) throw new Error('the upload was not read')
            const { plan, applied } = result
            const { format: planFormat, ...rest } = plan
            const answer = { dryRun, applied, format: planFormat, tracks: [], ...rest, warnings: lib.warnings.length + lib.warningsDropped, firstWarning: lib.warnings[0] ?? null }
            await sendJsonStream(res, 200, (out) => writeJsonWithList(out, answer, 'tracks', tracks.read(), { compact: true }))
          } finally {
            tracks.close()
          }
        } finally {
          importing = false
        }
      },
    },
    {
      methods: ['GET'],
      path: '/api/export/:format',
      longRunning: true,
      handle: async ({ params, query, res }) => {
        const format = formatOf(params.format)
        for (const k of query.keys()) if (k !== 'playlist') throw new ApiError(400, 'ERR_BAD_PARAM', `unknown parameter "${k.slice(0, 32)}"`)
        const playlist = query.get('playlist') ?? undefined
        let result
        try {
          result = await collectExport(call, { format, ...(playlist ? { playlist } : {}), cachePath: (sha) => cachePaths(join(home, 'cache'), sha).final })
        } catch (err) {
          if (err instanceof ExportError) throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', err.message)
          throw err
        }
        const name = `djcloud-${format}${playlist ? '-' + playlist.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64) : ''}.${format === 'rekordbox' ? 'xml' : 'nml'}`
        res.writeHead(200, {
          'Content-Type': 'application/xml; charset=utf-8',
          'Content-Disposition': `attachment; filename="${name}"`,
          'Cache-Control': 'no-store',
          'X-Djcloud-Tracks': String(result.summary.tracks),
        })
        const skipped: Array<{ what: string; reason: string }> = []
        // Written as it is made (a chunk a track), waiting when the client reads slower.
        for (const chunk of exportChunks(result, { format }, skipped)) {
          if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve))
        }
        res.end()
      },
    },
  ]
}
