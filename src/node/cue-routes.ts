// Cue points over the local API. A read merges this device's cue edits of a
// recording with every other live own device's (from their library
// manifests); a write turns the wanted set into this device's own edits
// (adds, changes, deletions at a new Lamport clock), stores them and
// republishes the library manifest, whose page for that audio hash carries them.
import type { LocalLibrary } from '../library/index.ts'
import { checkCues, mergeCues, setCues, type ManifestBook, type MergedCues, type UnionEntry } from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import type { ManifestSync } from './manifest-sync.ts'

export interface CueRoutesOptions {
  library: LocalLibrary
  book: ManifestBook
  sync: Pick<ManifestSync, 'libraryChanged'>
  union: () => Promise<Map<string, UnionEntry>>
}

/** Checks that a URL names a recording of the union by its audio hash (cues and notes belong to recordings); throws an ApiError. */
export function recordingChecker(union: () => Promise<Map<string, UnionEntry>>): (raw: string | undefined) => Promise<string> {
  // The audio hashes of a union, computed once per union (it is rebuilt when something changes).
  const recordings = new WeakMap<Map<string, UnionEntry>, Set<string>>()
  return async (raw) => {
    const h = raw ?? ''
    if (!SHA256_HEX.test(h)) throw new ApiError(400, 'ERR_BAD_ID', 'a recording is named by its audio hash: 64 lowercase hex digits')
    const all = await union()
    let set = recordings.get(all)
    if (!set) recordings.set(all, (set = new Set([...all.values()].map((u) => u.track.audioHash))))
    if (!set.has(h)) throw new ApiError(404, 'ERR_NOT_FOUND', `no own device lists a recording with audio hash ${h.slice(0, 12)}`)
    return h
  }
}

export function cueRoutes({ library, book, sync, union }: CueRoutesOptions): Route[] {
  const audioHash = recordingChecker(union)
  const sets = async (h: string) => {
    const out = book.cueEdits(h)
    const own = await library.cueEdits(h)
    if (own.length) out.set(book.selfId, own)
    return out
  }
  const merged = async (h: string): Promise<MergedCues> => mergeCues(await sets(h))
  // Writes one at a time: each reads the registers the one before it stored.
  let writing: Promise<unknown> = Promise.resolve()

  return [
    {
      // Every recording of the union with cues, at once: what an export of 20,000 tracks reads instead of 20,000 requests.
      methods: ['GET'],
      path: '/api/cues',
      handle: async ({ res }) => {
        const all = await union()
        const inUnion = new Set([...all.values()].map((u) => u.track.audioHash))
        const hashes = new Set([...(await library.allCueEdits()).keys(), ...book.editedRecordings('cues')])
        const out: Record<string, unknown> = {}
        for (const h of [...hashes].sort()) {
          if (!inUnion.has(h)) continue
          const { cues } = await merged(h)
          if (cues.length) out[h] = cues
        }
        sendJson(res, 200, { cues: out })
      },
    },
    {
      methods: ['GET'],
      path: '/api/cues/:audioHash',
      handle: async ({ params, res }) => {
        sendJson(res, 200, { cues: (await merged(await audioHash(params.audioHash))).cues })
      },
    },
    {
      methods: ['PUT'],
      path: '/api/cues/:audioHash',
      handle: async ({ params, req, res }) => {
        const h = await audioHash(params.audioHash)
        const body = await readJsonBody(req)
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is {"cues": [...]}')
        let wanted
        try {
          wanted = checkCues((body as { cues?: unknown }).cues)
        } catch (err) {
          throw new ApiError(400, 'ERR_BAD_PARAM', (err as Error).message)
        }
        const run = writing.then(async () => {
          await library.putCueEdits(h, setCues(book.selfId, await sets(h), wanted))
          return merged(h)
        })
        writing = run.catch(() => {})
        const after = await run
        sync.libraryChanged()
        sendJson(res, 200, { cues: after.cues })
      },
    },
  ]
}
